import type { NextFunction, Request, Response } from 'express';
import { debug } from '../debug.js';
import { OidcError } from '../errors.js';
import { login } from '../routes/login.js';
import { RUNTIME, type Runtime } from '../runtime.js';

const log = debug('guard');

/** A page load by a browser: it can follow a redirect to the login page. */
function isBrowserNavigation(req: Request): boolean {
  return (req.method === 'GET' || req.method === 'HEAD') && (req.headers.accept ?? '').includes('text/html');
}

/** The runtime of the `auth()` the request went through, or an error naming the mistake. */
export function runtimeOf(req: Request): Runtime {
  const rt = req.oidc?.[RUNTIME];
  if (rt === undefined) {
    throw new OidcError('ERR_CONFIG_INVALID', 'auth() must be mounted before this middleware', { status: 500 });
  }
  return rt;
}

/** Sends a browser to login (back to this URL afterwards); anything else gets 401. */
export function requireLogin(rt: Runtime, req: Request, res: Response, next: NextFunction, errorOnRequiredAuth: boolean): void {
  if (errorOnRequiredAuth || !isBrowserNavigation(req)) {
    log.info('refused: login required, answering 401 (ERR_NOT_AUTHENTICATED)%s', errorOnRequiredAuth ? '' : ' to a request that is not a page load');
    next(new OidcError('ERR_NOT_AUTHENTICATED', 'authentication required', { status: 401 }));
    return;
  }
  log('login required; sending the browser to login');
  login(rt, req, res, { returnTo: req.originalUrl }).catch(next);
}
