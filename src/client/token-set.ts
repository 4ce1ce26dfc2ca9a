import { hidePrinting, REDACTED } from '../printing.js';
import type { IdTokenClaims } from './id-token.js';

/**
 * What a token endpoint returned, in TypeScript's naming. A token set from the
 * library prints its tokens as `[redacted]` (JSON, `util.inspect`); read the
 * fields themselves to use them.
 */
export interface TokenSet {
  accessToken: string;
  tokenType: string;
  idToken?: string;
  refreshToken?: string;
  /** Seconds the access token is valid for, as the OP said. */
  expiresIn?: number;
  /** Epoch seconds when the access token expires (computed on receipt). */
  expiresAt?: number;
  scope?: string;
  /** The validated claims of `idToken`, when there is one. */
  idTokenClaims?: IdTokenClaims;
}

/** The raw token endpoint response fields this library reads. */
export interface TokenEndpointResponse {
  access_token: string;
  token_type: string;
  id_token?: string;
  refresh_token?: string;
  expires_in?: number;
  scope?: string;
}

export function toTokenSet(response: TokenEndpointResponse, idTokenClaims?: IdTokenClaims): TokenSet {
  const set: TokenSet = { accessToken: response.access_token, tokenType: normalizeTokenType(response.token_type) };
  if (response.id_token !== undefined) set.idToken = response.id_token;
  if (response.refresh_token !== undefined) set.refreshToken = response.refresh_token;
  if (typeof response.expires_in === 'number') {
    set.expiresIn = response.expires_in;
    set.expiresAt = Math.floor(Date.now() / 1000) + response.expires_in;
  }
  if (response.scope !== undefined) set.scope = response.scope;
  if (idTokenClaims !== undefined) set.idTokenClaims = idTokenClaims;
  return hideTokens(set);
}

/** The token set, printed (JSON, `util.inspect`) with its tokens as `[redacted]`; a copy needs this again. */
export function hideTokens(set: TokenSet): TokenSet {
  return hidePrinting(set, 'TokenSet', () => ({
    accessToken: REDACTED,
    tokenType: set.tokenType,
    ...(set.idToken === undefined ? {} : { idToken: REDACTED }),
    ...(set.refreshToken === undefined ? {} : { refreshToken: REDACTED }),
    expiresAt: set.expiresAt,
    scope: set.scope,
  }));
}

/** RFC 6750 and RFC 9449 spell the types `Bearer` and `DPoP`; OPs vary in case. */
function normalizeTokenType(type: string): string {
  const lower = type.toLowerCase();
  if (lower === 'bearer') return 'Bearer';
  if (lower === 'dpop') return 'DPoP';
  return type;
}
