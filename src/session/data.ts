import type { SessionTokens } from '../config/types.js';

/** What `req.session.oidc` holds for a signed-in user. */
export interface OidcSession extends SessionTokens {
  /** Token version: grows with every refresh, so an older copy never overwrites a newer one. */
  v: number;
  /** Epoch seconds of the login (for `absoluteDuration`). */
  created_at: number;
  /** Epoch seconds of the last recorded activity (for `rollingDuration`). */
  last_seen: number;
  /** Epoch seconds the access token was issued (to cap the refresh leeway for short-lived tokens). */
  issued_at?: number;
  /** Epoch seconds the IdP's session ends (the ID token's `session_expiry`): the session ends then, whatever else. */
  session_expiry?: number;
}

declare module 'express-session' {
  interface SessionData {
    oidc?: OidcSession;
  }
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);
