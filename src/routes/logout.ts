import type { Request, Response } from 'express';
import { debug } from '../debug.js';
import type { Runtime } from '../runtime.js';
import { safeReturnTo } from './return-to.js';

const log = debug('logout');

export interface LogoutOptions {
  /** Where to go after logout; must be on the app's origin. */
  returnTo?: string;
  /** Extra parameters for the OP's end-session endpoint. */
  logoutParams?: Record<string, string>;
}

/**
 * Ends the session: revokes the refresh token at the OP (a failure does not
 * block the logout), destroys the session, and with `idpLogout` sends the
 * browser to the OP's end-session endpoint.
 */
export async function logout(rt: Runtime, req: Request, res: Response, options: LogoutOptions = {}): Promise<void> {
  const { config } = rt;
  const returnTo = safeReturnTo(options.returnTo ?? new URL(config.routes.postLogoutRedirect, `${config.baseURL}/`).href, config.baseURL);
  const data = req.session?.oidc;
  if (data === undefined) {
    log('logout without a session');
    return res.redirect(returnTo);
  }

  if (config.revokeOnLogout && data.refresh_token !== undefined) {
    try {
      const metadata = await rt.client.serverMetadata();
      if (metadata.revocation_endpoint) await rt.client.revokeRefreshToken({ refreshToken: data.refresh_token });
    } catch (err) {
      log('refresh token revocation failed (%s); logging out anyway', (err as { code?: string }).code ?? 'error');
    }
  }
  await rt.sessions.end(req, res);

  if (!config.idpLogout) return res.redirect(returnTo);
  const url = await rt.client.endSessionUrl({
    idTokenHint: data.id_token,
    postLogoutRedirectUri: returnTo,
    extra: { ...config.logoutParams, ...options.logoutParams },
  });
  log('redirecting to the OP to end its session');
  res.redirect(url);
}
