/**
 * `secret` must be random: obviously guessable values are refused at start-up with a message that
 * says how to make a good one, while real random secrets (and every secret of this test suite)
 * pass.
 */
import { randomBytes } from 'node:crypto';
import { getConfig } from '../../src/config/index.js';
import { OidcError } from '../../src/errors.js';
import { APP_SECRET } from '../helpers/app.js';

const VALID = { issuerBaseURL: 'https://op.example.com', baseURL: 'https://app.example.com', clientID: 'c', clientSecret: 'client-secret' };

function refusal(secret: string | string[]): OidcError | undefined {
  try {
    getConfig({ ...VALID, secret }, {});
    return undefined;
  } catch (err) {
    if (err instanceof OidcError) return err;
    throw err;
  }
}

test.each([
  ['one character repeated', 'a'.repeat(40)],
  ['two characters alternating', 'ab'.repeat(20)],
  ['a word repeated', 'password'.repeat(5)],
  ['a short pattern repeated', 'Secret#1'.repeat(5)],
  ['the alphabet', 'abcdefghijklmnopqrstuvwxyz0123456789'],
  ['digits counting up', '0123456789'.repeat(4)],
  ['a keyboard run', 'qwertyuiopqwertyuiopqwertyuiopqw'],
  ['few characters, shuffled', 'aabbaabababbbaabbbaaabab1221abab12'],
])('refused: %s', (_label, secret) => {
  const err = refusal(secret);
  expect(err?.code).toBe('ERR_CONFIG_INVALID');
  expect(err?.message).toMatch(/"secret"/);
  expect(err?.message).toContain('openssl rand -hex 32');
  expect(err?.message).not.toContain(secret.slice(0, 8));
});

test('a random secret whose characters happen to repeat more than usual still passes', () => {
  // An `openssl rand -hex 16` output whose estimated randomness is under 100 bits (about one in a thousand).
  expect(refusal('73eb3b616eb1e36f2b17b360217b937e')).toBeUndefined();
});

test('a weak secret anywhere in a rotation is refused', () => {
  expect(refusal([randomBytes(32).toString('hex'), 'z'.repeat(40)])?.code).toBe('ERR_CONFIG_INVALID');
});

test('random secrets pass: openssl rand -hex 32 and -hex 16, -base64 32, 200 of each', () => {
  for (let i = 0; i < 200; i += 1) {
    for (const secret of [randomBytes(32).toString('hex'), randomBytes(16).toString('hex'), randomBytes(32).toString('base64'), randomBytes(32).toString('base64url')]) {
      expect([secret, refusal(secret)?.message]).toEqual([secret, undefined]);
    }
  }
});

test("the test suite's and the docs' secrets pass", () => {
  for (const secret of [
    APP_SECRET,
    'a-secret-that-is-at-least-32-characters-long',
    'the-old-secret-that-is-at-least-32-characters',
    'the-new-secret-that-is-at-least-32-characters',
    'an-env-secret-that-is-at-least-32-characters',
    'an-app-secret-for-its-own-session-0000',
  ]) {
    expect([secret, refusal(secret)?.message]).toEqual([secret, undefined]);
  }
});
