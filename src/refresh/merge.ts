import type { TokenSet } from '../client/token-set.js';
import type { OidcSession } from '../session/data.js';

/**
 * The session after a refresh, as a new object with the next token version.
 *
 * - A refresh token is replaced only when the OP returned one (OPs that do
 *   not rotate send none, and the old one stays valid).
 * - With `sessionToken` the new access token becomes the session's: its
 *   expiry is recomputed from `expires_in` (and dropped when the OP gave
 *   none), its scope taken when the OP stated one, and a returned ID token
 *   (already validated for this user) replaces the old, so the claims follow.
 * - Without it (a reduced-scope token handed to one caller) only the refresh
 *   token is taken: the reduced token and its ID token, whose claims follow
 *   the reduced scope, must not replace the session's.
 */
export function mergeRefreshed(latest: OidcSession, tokens: TokenSet, now: number, sessionToken: boolean): OidcSession {
  const next: OidcSession = { ...latest, v: latest.v + 1 };
  if (tokens.refreshToken !== undefined) next.refresh_token = tokens.refreshToken;
  if (!sessionToken) return next;

  next.access_token = tokens.accessToken;
  next.token_type = tokens.tokenType;
  next.issued_at = now;
  if (tokens.expiresAt === undefined) delete next.expires_at;
  else next.expires_at = tokens.expiresAt;
  if (tokens.scope !== undefined) next.scope = tokens.scope;
  if (tokens.idToken !== undefined) next.id_token = tokens.idToken;
  return next;
}
