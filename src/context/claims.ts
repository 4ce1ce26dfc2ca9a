import type { IDToken } from 'openid-client';

/**
 * The claims of the session's ID token (validated when it was stored), typed
 * as openid-client types them, plus the IPSIE SL1 `session_expiry` claim:
 * the same shape express-openid-connect's `IdTokenClaims` has.
 */
export type IdTokenClaims = IDToken & {
  /** Epoch seconds: the IdP's ceiling on the session's lifetime, when it sends one. */
  session_expiry?: number;
};
