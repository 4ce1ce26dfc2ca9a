import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config/types.js';
import { clearCookie, parseCookies, setCookie, type CookieAttributes } from '../transaction/cookies.js';

/** Seconds a browser that came back anonymous from a silent login is left alone (default). */
export const SILENT_LOGIN_RETRY_AFTER = 3_600;

/**
 * The cookie that says "no silent login for this browser now". It carries no
 * secret (forging it only skips an attempt), so it is not signed.
 */
function cookieName(config: Config): string {
  return `${config.session.name}_silent`;
}

function attributes(config: Config): CookieAttributes {
  const { cookie } = config.session;
  return { path: cookie.path, secure: cookie.secure, sameSite: 'Lax', ...(cookie.domain === undefined ? {} : { domain: cookie.domain }) };
}

/** Whether this browser is marked: it tried recently, or it logged out in this browser session. */
export function hasSilentLoginMark(req: IncomingMessage, config: Config): boolean {
  return parseCookies(req).has(cookieName(config));
}

/**
 * Marks the browser. `maxAge` (seconds) after an attempt; none after a logout,
 * so the mark lasts until the browser closes and a user who just logged out
 * is not signed straight back in by the OP's still-open session.
 */
export function setSilentLoginMark(res: ServerResponse, config: Config, maxAge?: number): void {
  setCookie(res, cookieName(config), '1', { ...attributes(config), ...(maxAge === undefined ? {} : { maxAge }) });
}

/** Clears the mark once the user is signed in, so a later expired session may be renewed silently. */
export function clearSilentLoginMark(req: IncomingMessage, res: ServerResponse, config: Config): void {
  if (hasSilentLoginMark(req, config)) clearCookie(res, cookieName(config), attributes(config));
}
