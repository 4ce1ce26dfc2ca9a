import type { Request, RequestHandler } from 'express';
import { parseAcrValues, parseMaxAge, unmetAssurance, type AssuranceRequirement } from '../assurance/index.js';
import { OidcError } from '../errors.js';
import { nowSeconds } from '../session/data.js';
import { requireLogin, requireStepUp, runtimeOf } from './require-login.js';

/**
 * Decides whether this request needs a login: `true` sends an anonymous
 * browser to log in (anything else gets 401), `false` lets the request
 * through. express-openid-connect's `requiresAuth(fn)` form.
 */
export type RequiresLoginCheck = (req: Request) => boolean;

export interface RequiresAuthOptions {
  /** Answer 401 instead of redirecting browsers to login (default: the `auth()` option). */
  errorOnRequiredAuth?: boolean;
  /**
   * Step-up (RFC 9470): the ID token's `acr` must be one of these (a
   * space-separated string or an array). `amr` containing `mfa` satisfies
   * `http://schemas.openid.net/pape/policies/2007/06/multi-factor` (Auth0's form).
   */
  acrValues?: string | readonly string[];
  /** Step-up (RFC 9470): seconds since the user last authenticated (`auth_time`) the session may be old. */
  maxAge?: number;
}

const OPTION_NAMES = new Set(['errorOnRequiredAuth', 'acrValues', 'maxAge']);

function invalid(message: string): OidcError {
  return new OidcError('ERR_CONFIG_INVALID', `requiresAuth: ${message}`, { status: 500 });
}

/** The options object, checked: an unknown key or a wrong type throws at start-up. */
function readOptions(options: Record<string, unknown>): { errorOnRequiredAuth: boolean | undefined; requirement: AssuranceRequirement | undefined } {
  for (const key of Object.keys(options)) {
    if (!OPTION_NAMES.has(key)) throw invalid(`unknown option "${key.slice(0, 40).replace(/[^\w.-]/g, '?')}"`);
  }
  const { errorOnRequiredAuth, acrValues, maxAge } = options;
  if (errorOnRequiredAuth !== undefined && typeof errorOnRequiredAuth !== 'boolean') throw invalid('"errorOnRequiredAuth" must be true or false');
  const requirement: { acrValues?: string[]; maxAge?: number } = {};
  if (acrValues !== undefined) requirement.acrValues = parseAcrValues(acrValues, 'requiresAuth: "acrValues"');
  if (maxAge !== undefined) requirement.maxAge = parseMaxAge(maxAge, 'requiresAuth: "maxAge"');
  return {
    errorOnRequiredAuth,
    requirement: requirement.acrValues === undefined && requirement.maxAge === undefined ? undefined : Object.freeze(requirement),
  };
}

/**
 * Guards a route: a signed-in user passes; a browser page load is sent to
 * login and brought back; any other request gets a 401 error.
 *
 * - `requiresAuth(fn)`: `fn(req)` decides whether the request needs a login
 *   (express-openid-connect's meaning). `true` for an anonymous user is
 *   handled as above; `true` for a signed-in user is a 403
 *   (`ERR_FORBIDDEN_CLAIM`), as the claim checks answer, rather than a login
 *   that would bring them back to the same refusal.
 * - `requiresAuth({ acrValues, maxAge })`: step-up authentication (RFC 9470).
 *   A session whose ID token lacks the `acr` or is older than `maxAge` sends
 *   a browser to log in again with `acr_values` / `max_age` (and back to the
 *   route); an API client gets 401 `ERR_STEP_UP_REQUIRED` with
 *   `WWW-Authenticate: Bearer error="insufficient_user_authentication"`. A
 *   login that comes back without the asked `acr` fails with 403
 *   `ERR_STEP_UP_FAILED` and keeps the session it had.
 *
 * Anything else (an unknown option, a wrong type, a second argument) throws
 * `ERR_CONFIG_INVALID` here, at start-up.
 *
 * @example
 * ```ts
 * app.get('/profile', requiresAuth(), (req, res) => res.json(req.oidc.user));
 * app.get('/api/me', requiresAuth({ errorOnRequiredAuth: true }), handler);
 * app.get('/reports', requiresAuth((req) => req.query.private === '1' && !req.oidc.isAuthenticated()), handler);
 * app.post('/transfer', requiresAuth({ acrValues: 'http://schemas.openid.net/pape/policies/2007/06/multi-factor', maxAge: 300 }), handler);
 * ```
 */
export function requiresAuth(options?: RequiresAuthOptions): RequestHandler;
export function requiresAuth(requiresLoginCheck: RequiresLoginCheck): RequestHandler;
export function requiresAuth(...args: unknown[]): RequestHandler {
  if (args.length > 1) throw invalid('takes one argument (a function or an options object)');
  const [arg] = args;
  if (typeof arg === 'function') return guardWithCheck(arg as RequiresLoginCheck);
  if (arg !== undefined && (typeof arg !== 'object' || arg === null || Array.isArray(arg))) {
    throw invalid('the argument must be a function (req) => boolean or an options object');
  }
  const { errorOnRequiredAuth, requirement } = readOptions((arg ?? {}) as Record<string, unknown>);
  return (req, res, next) => {
    try {
      const rt = runtimeOf(req);
      const toApi = errorOnRequiredAuth ?? rt.config.errorOnRequiredAuth;
      // Each read of req.oidc builds a context: read it once.
      const oidc = req.oidc;
      if (!oidc.isAuthenticated()) return requireLogin(rt, req, res, next, toApi, requirement);
      // Only a step-up route reads the claims (a plain guard stays a cheap check).
      if (requirement === undefined) return next();
      const claims = oidc.idTokenClaims ?? {};
      const unmet = unmetAssurance(claims, requirement, nowSeconds(), rt.config.clockTolerance);
      if (unmet === undefined) return next();
      requireStepUp(rt, req, res, next, toApi, requirement, unmet);
    } catch (err) {
      next(err);
    }
  };
}

/** `requiresAuth(fn)`: the app's function says whether this request needs a login. */
function guardWithCheck(check: RequiresLoginCheck): RequestHandler {
  return (req, res, next) => {
    try {
      const rt = runtimeOf(req);
      const needsLogin: unknown = check(req);
      if (typeof needsLogin !== 'boolean') {
        // A promise (an async function) or another value would be guessed at: fail closed, loudly.
        throw invalid('the function must return true (login required) or false, synchronously');
      }
      if (!needsLogin) return next();
      if (!req.oidc.isAuthenticated()) return requireLogin(rt, req, res, next, rt.config.errorOnRequiredAuth);
      next(new OidcError('ERR_FORBIDDEN_CLAIM', 'this route is not available to the signed-in user', { status: 403 }));
    } catch (err) {
      next(err);
    }
  };
}
