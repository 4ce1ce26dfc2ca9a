/**
 * The security constants and defaults, pinned by value: raising a limit or loosening a default
 * must fail a test that names it. Their effect is tested at the exact boundary elsewhere
 * (logout-token-rules, transaction/cookies, return-to-boundaries, backchannel-logout-faults,
 * lock-wait); here each stated value is checked against the number it must be.
 */
import { describe, expect, test } from '@jest/globals';

import * as logoutToken from '../../src/client/logout-token.js';
import { getConfig } from '../../src/config/index.js';
import * as silentLogin from '../../src/routes/silent-login-mark.js';
import * as transaction from '../../src/transaction/index.js';

describe('exported limits', () => {
  test.each([
    ['a logout token is accepted for 120 s after its iat', logoutToken.LOGOUT_TOKEN_MAX_AGE, 120],
    ['a login may take 600 s from /login to /callback', transaction.TRANSACTION_TTL, 600],
    ['five logins may be open per browser', transaction.MAX_OPEN_TRANSACTIONS, 5],
    ['a browser back anonymous from a silent login is left alone for an hour', silentLogin.SILENT_LOGIN_RETRY_AFTER, 3_600],
  ])('%s', (_what, actual, expected) => {
    expect(actual).toBe(expected);
  });
});

describe('security defaults', () => {
  const config = getConfig(
    { issuerBaseURL: 'https://op.example.com', baseURL: 'https://app.example.com', clientID: 'c', clientSecret: 's', secret: 'a-secret-that-is-at-least-32-characters-long' },
    {},
  );

  test.each([
    ['clock skew tolerated in token checks: 60 s', config.clockTolerance, 60],
    ['a call to the OP may take 5 s', config.httpTimeout, 5_000],
    ['a session store call may take 2 s', config.session.storeTimeout, 2_000],
    ['one alg for ID tokens: RS256', config.idTokenSigningAlg, 'RS256'],
    ['the session cookie is Secure on https', config.session.cookie.secure, true],
    ['the session cookie is SameSite=Lax', config.session.cookie.sameSite, 'Lax'],
    ['transaction cookies are SameSite=Lax', config.transactionCookie.sameSite, 'Lax'],
    ['a session ends a week after login', config.session.absoluteDuration, 604_800],
    ['a JWKS refetch for an unknown kid waits 30 s', config.jwksCooldown, 30_000],
  ])('%s', (_what, actual, expected) => {
    expect(actual).toBe(expected);
  });
});
