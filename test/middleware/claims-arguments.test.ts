/**
 * The claim guards take express-openid-connect's argument shapes and refuse,
 * at start-up, what they cannot mean; an async check can never pass a request.
 */
import { claimCheck, claimEquals, claimIncludes } from '../../src/index.js';

test('claimEquals and claimIncludes take null like the other JSON primitives', () => {
  expect(typeof claimEquals('nickname', null)).toBe('function');
  expect(typeof claimIncludes('roles', 'admin', null, 1, true)).toBe('function');
});

test.each([
  ['claimEquals without a value', () => claimEquals('x' as string, ...([] as unknown as [null]))],
  ['claimEquals with an object', () => claimEquals('x', {} as never)],
  ['claimIncludes without values', () => claimIncludes('roles')],
  ['claimIncludes with an array', () => claimIncludes('roles', ['a'] as never)],
  ['claimCheck with an async function', () => claimCheck((async () => true) as never)],
  ['claimCheck with an empty message', () => claimCheck(() => true, '')],
])('%s throws at start-up', (_name, make) => {
  expect(make).toThrow(TypeError);
});
