/** The client, user and secrets every benchmark process agrees on. */

export const CLIENT_ID = 'bench-client';
export const CLIENT_SECRET = 'bench-client-secret-that-is-long-enough';
export const APP_SECRET = 'bench-app-secret-that-is-at-least-32-characters';

/** Sent by the bench browser, so the OP can tell the user's requests from the apps'. */
export const BROWSER_USER_AGENT = 'express-oidc-bench-browser';

export const USER = {
  sub: 'bench|alice',
  username: 'alice',
  password: 'alice-password-1',
  claims: {
    sub: 'bench|alice',
    name: 'Alice Example',
    nickname: 'alice',
    preferred_username: 'alice',
    email: 'alice@example.com',
    email_verified: true,
  },
};
