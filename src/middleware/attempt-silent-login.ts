import type { Request, RequestHandler, Response } from 'express';
import { debug } from '../debug.js';
import { loggableCode, OidcError } from '../errors.js';
import { login } from '../routes/login.js';
import { SILENT_LOGIN_RETRY_AFTER, hasSilentLoginMark, setSilentLoginMark } from '../routes/silent-login-mark.js';
import type { Runtime } from '../runtime.js';
import { runtimeOf } from './require-login.js';

const log = debug('silent-login');

export interface AttemptSilentLoginOptions {
  /**
   * Seconds before a browser that came back anonymous is tried again
   * (default 3600). Within that time its pages load without a detour to the OP.
   */
  retryAfter?: number;
}

/**
 * A page load by a browser's address bar or a link: a GET that accepts HTML
 * and, where the browser says so (`Sec-Fetch-Dest`), loads a top-level
 * document. `fetch()`/XHR calls (`Sec-Fetch-Dest: empty`, `X-Requested-With`),
 * iframes, POSTs and API clients never qualify: they cannot follow a round
 * trip through the OP.
 */
function isTopLevelPageLoad(req: Request): boolean {
  if (req.method !== 'GET' || !(req.headers.accept ?? '').includes('text/html')) return false;
  if (req.headers['x-requested-with'] !== undefined) return false;
  const dest = req.headers['sec-fetch-dest'];
  return dest === undefined || dest === 'document';
}

/**
 * Internal: sends an anonymous browser's first page load to the OP with
 * `prompt=none`, once; `proceed` runs for every request it leaves alone
 * (and when the OP cannot be asked: the page then loads anonymous).
 */
export function trySilentLogin(rt: Runtime, req: Request, res: Response, proceed: () => void, retryAfter = SILENT_LOGIN_RETRY_AFTER): void {
  if (req.oidc.isAuthenticated() || !isTopLevelPageLoad(req) || hasSilentLoginMark(req, rt.config)) {
    proceed();
    return;
  }
  // Marked before leaving, so whatever the OP answers this browser is not sent again (no loop).
  setSilentLoginMark(res, rt.config, retryAfter);
  log('attempting a silent login');
  login(rt, req, res, { returnTo: req.originalUrl, silent: true, authorizationParams: { prompt: 'none' } }).catch((err: unknown) => {
    log('silent login could not start (%s); continuing anonymous', loggableCode(err));
    proceed();
  });
}

/**
 * Signs in a returning user without showing them anything: on an anonymous
 * browser's first page load it asks the OP once, with `prompt=none`, whether
 * the user still has a session there. If so, the user comes back signed in;
 * if not (`login_required` or any other answer), the page loads anonymous,
 * without an error page. A short-lived cookie marks the attempt, so the
 * browser is not sent again for `retryAfter` seconds; a logout marks it for
 * the rest of the browser session. API clients, `fetch()` calls and POSTs
 * are never redirected. Mount it after `auth()`.
 *
 * @example
 * ```ts
 * app.use(auth({ authRequired: false }));
 * app.get('/', attemptSilentLogin(), (req, res) => res.render('home', { user: req.oidc.user }));
 * ```
 */
export function attemptSilentLogin(options: AttemptSilentLoginOptions = {}): RequestHandler {
  const retryAfter = options.retryAfter ?? SILENT_LOGIN_RETRY_AFTER;
  if (typeof retryAfter !== 'number' || !Number.isInteger(retryAfter) || retryAfter <= 0) {
    throw new OidcError('ERR_CONFIG_INVALID', 'Invalid option "retryAfter" of attemptSilentLogin(): must be a whole number of seconds greater than 0.', { status: 500 });
  }
  return (req, res, next) => {
    try {
      trySilentLogin(runtimeOf(req), req, res, () => next(), retryAfter);
    } catch (err) {
      next(err);
    }
  };
}
