import type { Request, Response } from 'express';
import { paramStrings } from '../config/params.js';
import { debug } from '../debug.js';
import type { Runtime } from '../runtime.js';
import { safeReturnTo } from './return-to.js';
import { setSilentLoginMark } from './silent-login-mark.js';

const log = debug('logout');

export interface LogoutOptions {
  /** Where to go after logout; must be on the app's origin. */
  returnTo?: string;
  /**
   * Extra parameters for the OP's end-session endpoint, over the configured
   * `logoutParams`. Numbers and booleans are sent as text; null or undefined
   * leaves a parameter out (also one of the configured ones).
   */
  logoutParams?: Record<string, unknown>;
}

/**
 * Ends the session: revokes the refresh token at the OP (a failure does not
 * block the logout), destroys the session, and with `idpLogout` sends the
 * browser to the OP's end-session endpoint.
 */
export async function logout(rt: Runtime, req: Request, res: Response, options: LogoutOptions = {}): Promise<void> {
  const { config } = rt;
  // Checked first, so a mistake in app code fails every time, signed in or not.
  const extra = options.logoutParams === undefined ? {} : paramStrings(options.logoutParams, 'logout: "logoutParams"');
  const returnTo = safeReturnTo(options.returnTo ?? new URL(config.routes.postLogoutRedirect, `${config.baseURL}/`).href, config.baseURL);
  const data = req.session?.oidc;
  // No silent login for the rest of this browser session: the OP's session may outlive ours
  // and would sign the user straight back in.
  setSilentLoginMark(res, config);
  if (data === undefined) {
    log('logout without a session');
    return res.redirect(returnTo);
  }

  log('logging out');
  // Never throws: a failed revocation is logged and the logout goes on.
  if (config.revokeOnLogout) await rt.refresher.revoke(req);
  await rt.sessions.end(req, res);

  if (!config.idpLogout) return res.redirect(returnTo);
  const url = await rt.client.endSessionUrl({
    idTokenHint: data.id_token,
    postLogoutRedirectUri: returnTo,
    extra: withoutCleared({ ...config.logoutParams, ...extra }, options.logoutParams),
  });
  log('redirecting to the OP to end its session');
  res.redirect(url);
}

/** A parameter set to null or undefined in the call's `logoutParams` is left out, even a configured one. */
function withoutCleared(params: Record<string, string>, given: Record<string, unknown> | undefined): Record<string, string> {
  if (given === undefined) return params;
  for (const [key, value] of Object.entries(given)) if (value === null || value === undefined) delete params[key];
  return params;
}
