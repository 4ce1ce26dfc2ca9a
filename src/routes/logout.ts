import type { Request, Response } from 'express';
import { paramStrings } from '../config/params.js';
import { debug } from '../debug.js';
import { OidcError } from '../errors.js';
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

/** `Sec-Fetch-Site` values of a request that did not come from another site. */
const NOT_CROSS_SITE = new Set(['same-origin', 'same-site', 'none']);

/** The origin of a header URL (`Origin`, `Referer`), or undefined when it has none. */
function originOf(value: string | undefined): string | undefined {
  if (value === undefined || value === 'null') return value;
  try {
    return new URL(value).origin;
  } catch {
    return 'null';
  }
}

/**
 * Whether a request comes from another site: by `Sec-Fetch-Site` where the
 * browser sends it, else by an `Origin` or `Referer` of another origin.
 * Requests with neither (a typed URL, a client that is no browser) are not.
 */
export function isCrossSite(req: Request, baseURL: string): boolean {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string') return !NOT_CROSS_SITE.has(site.trim().toLowerCase());
  const own = new URL(baseURL).origin;
  const origin = originOf(req.headers.origin);
  if (origin !== undefined) return origin !== own;
  const referer = originOf(req.headers.referer);
  return referer !== undefined && referer !== own;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The page a cross-site `GET /logout` gets instead of a logout: one button
 * that posts back to the same route. It cannot be framed (a hidden button
 * under the user's click) and runs no script.
 */
function confirmationPage(res: Response, action: string): void {
  res
    .status(200)
    .set({
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      // No form-action: browsers apply it to the redirects after the post too (to the OP, with idpLogout).
      'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
      'X-Frame-Options': 'DENY',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'same-origin',
    })
    .send(
      '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Log out?</title>' +
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>' +
        '<body style="font-family:system-ui,sans-serif;max-width:30em;margin:4em auto;text-align:center">' +
        '<p>Do you want to log out?</p>' +
        `<form method="post" action="${escapeHtml(action)}"><button type="submit" id="confirm-logout">Log out</button></form>` +
        '</body></html>',
    );
}

/**
 * The logout route (`routes.logout`). A same-site `GET` (a link on the app's
 * pages, a typed URL) logs out at once. A cross-site `GET` (another site's
 * link or redirect: logout CSRF, which with `idpLogout` also ends the OP's
 * session) gets a confirmation page that posts back. A `POST` logs out only
 * when it is not cross-site, so another site cannot post it either.
 */
export async function logoutRoute(rt: Runtime, req: Request, res: Response, options: LogoutOptions = {}): Promise<void> {
  if (!isCrossSite(req, rt.config.baseURL)) return logout(rt, req, res, options);
  if (req.method === 'POST') {
    throw new OidcError('ERR_CROSS_SITE_REQUEST', 'logout: cross-site posts are refused', { status: 403 });
  }
  if (req.session?.oidc === undefined) {
    // Nothing to end: no page, just where a logout would have gone.
    return logout(rt, req, res, options);
  }
  log('cross-site logout request: asking the user to confirm');
  const action = new URL(rt.config.routes.logout as string, `${rt.config.baseURL}/`);
  if (options.returnTo !== undefined) action.searchParams.set('returnTo', safeReturnTo(options.returnTo, rt.config.baseURL));
  confirmationPage(res, action.pathname + action.search);
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
