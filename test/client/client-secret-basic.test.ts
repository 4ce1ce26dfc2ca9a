import { formUrlEncode } from '../../src/client/client-secret-basic.js';

test('RFC 6749 §2.3.1 encoding: `*-._` and alphanumerics kept, space as +, the rest percent-encoded', () => {
  expect(formUrlEncode('5f0c3e2a-interop.basic_client*')).toBe('5f0c3e2a-interop.basic_client*');
  expect(formUrlEncode("a b~!'()%:/é")).toBe('a+b%7E%21%27%28%29%25%3A%2F%C3%A9');
});
