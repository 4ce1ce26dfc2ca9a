/**
 * What a log line says of a failure: an OidcError's stable code, and for anything else a fixed
 * text, never the error's message (a fetch or store error can carry a URL with a code, or a token).
 */
import { expect, test } from '@jest/globals';

import { loggableCode, MfaRequiredError, OidcError } from '../../src/errors.js';

test("an OidcError (of any class) is logged by its code, not its message", () => {
  expect(loggableCode(new OidcError('ERR_OP_ERROR', 'the OP answered "invalid_grant"'))).toBe('ERR_OP_ERROR');
  expect(loggableCode(new MfaRequiredError('mfa-token-value'))).toBe('ERR_MFA_REQUIRED');
});

test('any other thrown value is a fixed text, whatever it holds', () => {
  const secret = 'eyJhbGciOiJSUzI1NiJ9.secret-token';
  for (const thrown of [new Error(`fetch failed for https://app.example.com/callback?code=${secret}`), Object.assign(new Error(secret), { code: secret }), secret, null, undefined, { code: 'ERR_OP_ERROR' }]) {
    expect(loggableCode(thrown)).toBe('an unexpected error');
  }
});
