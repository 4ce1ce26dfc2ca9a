import type { Request, Response } from 'express';
import type { TokenSet } from '../client/token-set.js';
import type { SessionTokens } from '../config/types.js';
import { OidcError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { sessionCeiling } from '../session/ceiling.js';

/**
 * Turns a validated token set into a signed-in session: `afterCallback` may
 * change what is stored, the session gets a new id, and the session is filed
 * for back-channel logout. Shared by `/callback` and password login.
 */
export async function completeLogin(rt: Runtime, req: Request, res: Response, tokens: TokenSet, appState: Record<string, unknown>): Promise<void> {
  if (tokens.idToken === undefined || tokens.idTokenClaims === undefined) {
    throw new OidcError('ERR_ID_TOKEN_INVALID', 'ID token invalid: the OP returned none', { status: 400 });
  }
  // The IdP's ceiling comes from the validated ID token, whatever afterCallback keeps.
  const ceiling = sessionCeiling(tokens.idTokenClaims);
  let stored: SessionTokens = { id_token: tokens.idToken, access_token: tokens.accessToken, token_type: tokens.tokenType };
  if (tokens.expiresAt !== undefined) stored.expires_at = tokens.expiresAt;
  if (tokens.refreshToken !== undefined) stored.refresh_token = tokens.refreshToken;
  if (tokens.scope !== undefined) stored.scope = tokens.scope;

  const { afterCallback } = rt.config;
  if (afterCallback !== undefined) {
    stored = await afterCallback(req, res, stored, appState);
    if (typeof stored !== 'object' || stored === null || typeof stored.id_token !== 'string') {
      throw new OidcError('ERR_CONFIG_INVALID', 'afterCallback must return the session object (with id_token)', { status: 500 });
    }
  }
  await rt.sessions.establish(req, res, stored, ceiling);

  if (rt.logoutIndex !== undefined) {
    const claims = tokens.idTokenClaims;
    const keys = [`sub:${claims.sub}`];
    if (typeof claims.sid === 'string') keys.push(`sid:${claims.sid}`);
    const { absoluteDuration, rollingDuration } = rt.config.session;
    await rt.logoutIndex.add(keys, req.sessionID, absoluteDuration === false ? rollingDuration : absoluteDuration);
  }
  const bcl = rt.config.backchannelLogout;
  if (bcl !== false && typeof bcl.onLogin === 'function') await bcl.onLogin(req, rt.config);
}
