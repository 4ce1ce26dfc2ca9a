import type { NextFunction, Request, Response } from 'express';
import { stepUpChallenge, stepUpRequired, type AssuranceRequirement, type UnmetAssurance } from '../assurance/index.js';
import { debug } from '../debug.js';
import { OidcError } from '../errors.js';
import { login } from '../routes/login.js';
import { RUNTIME, type Runtime } from '../runtime.js';

const log = debug('guard');

/**
 * A page load by a browser: it can follow a redirect to the login page.
 * `fetch()` and XHR calls are API calls even when they accept HTML: browsers
 * send them with `Sec-Fetch-Dest: empty` (a page load has `document`), and
 * XHR libraries add `X-Requested-With`.
 */
function isBrowserNavigation(req: Request): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (!(req.headers.accept ?? '').includes('text/html')) return false;
  if (req.headers['sec-fetch-dest'] === 'empty') return false;
  return req.headers['x-requested-with'] === undefined;
}

/** The runtime of the `auth()` the request went through, or an error naming the mistake. */
export function runtimeOf(req: Request): Runtime {
  const rt = req.oidc?.[RUNTIME];
  if (rt === undefined) {
    throw new OidcError('ERR_CONFIG_INVALID', 'auth() must be mounted before this middleware', { status: 500 });
  }
  return rt;
}

/**
 * Sends a browser to login (back to this URL afterwards); anything else gets
 * 401. With a step-up `requirement`, the login asks for its `acr_values` /
 * `max_age` and its ID token must prove them.
 */
export function requireLogin(
  rt: Runtime,
  req: Request,
  res: Response,
  next: NextFunction,
  errorOnRequiredAuth: boolean,
  requirement?: AssuranceRequirement,
): void {
  if (errorOnRequiredAuth || !isBrowserNavigation(req)) {
    log.info('refused: login required, answering 401 (ERR_NOT_AUTHENTICATED)%s', errorOnRequiredAuth ? '' : ' to a request that is not a page load');
    next(new OidcError('ERR_NOT_AUTHENTICATED', 'authentication required', { status: 401 }));
    return;
  }
  log('login required; sending the browser to login');
  startLogin(rt, req, res, next, requirement);
}

/**
 * The signed-in user's authentication falls short of the route's
 * requirement: a browser logs in again with `acr_values` / `max_age`; an API
 * client gets the RFC 9470 401 challenge.
 */
export function requireStepUp(
  rt: Runtime,
  req: Request,
  res: Response,
  next: NextFunction,
  errorOnRequiredAuth: boolean,
  requirement: AssuranceRequirement,
  unmet: UnmetAssurance,
): void {
  if (errorOnRequiredAuth || !isBrowserNavigation(req)) {
    const challenge = stepUpChallenge(requirement, unmet);
    res.setHeader('WWW-Authenticate', challenge);
    // finalhandler (Express's default error handler) sets `err.headers` on its answer.
    next(Object.assign(stepUpRequired(unmet), { headers: { 'WWW-Authenticate': challenge } }));
    return;
  }
  log('step-up required (%s); sending the browser to login', unmet.acr ? 'acr' : 'max_age');
  startLogin(rt, req, res, next, requirement);
}

function startLogin(rt: Runtime, req: Request, res: Response, next: NextFunction, requirement: AssuranceRequirement | undefined): void {
  const authorizationParams: Record<string, string | number> = {};
  if (requirement?.acrValues !== undefined) authorizationParams.acr_values = requirement.acrValues.join(' ');
  if (requirement?.maxAge !== undefined) authorizationParams.max_age = requirement.maxAge;
  login(
    rt,
    req,
    res,
    { returnTo: req.originalUrl, ...(requirement === undefined ? {} : { authorizationParams }) },
    requirement?.acrValues === undefined ? {} : { requiredAcr: requirement.acrValues },
  ).catch(next);
}
