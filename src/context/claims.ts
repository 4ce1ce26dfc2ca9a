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

/**
 * The identity claims of `req.oidc.user`: the standard claims of OpenID
 * Connect Core 1.0, section 5.1, typed as the OP sends them, and any other
 * claim (Auth0's `org_id`, a namespaced custom claim) as `unknown`, to be
 * checked before use. A claim is present only when the OP released it (most
 * depend on the `profile` and `email` scopes), so each one but `sub` is optional.
 *
 * @example
 * ```ts
 * app.get('/account', requiresAuth(), (req, res) => {
 *   res.send(`Hello ${req.oidc.user?.name ?? 'there'}`);
 * });
 * ```
 */
export interface UserClaims {
  /** The user's identifier at the OP, unique per issuer. */
  sub: string;
  name?: string;
  given_name?: string;
  family_name?: string;
  middle_name?: string;
  nickname?: string;
  preferred_username?: string;
  profile?: string;
  picture?: string;
  website?: string;
  email?: string;
  email_verified?: boolean;
  gender?: string;
  birthdate?: string;
  zoneinfo?: string;
  locale?: string;
  phone_number?: string;
  phone_number_verified?: boolean;
  address?: {
    formatted?: string;
    street_address?: string;
    locality?: string;
    region?: string;
    postal_code?: string;
    country?: string;
  };
  /** Epoch seconds of the last change of the user's profile. */
  updated_at?: number;
  /** Any other claim the OP put in the ID token. */
  [claim: string]: unknown;
}
