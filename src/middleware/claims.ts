import type { Request, RequestHandler } from 'express';
import { debug } from '../debug.js';
import { OidcError } from '../errors.js';
import { requireLogin, runtimeOf } from './require-login.js';

const log = debug('guard');

export type ClaimChecker = (req: Request, claims: Record<string, unknown>) => boolean;

/**
 * Guards a route with a check of the ID token's claims: anonymous users are
 * treated as by `requiresAuth()`, signed-in users failing it get 403.
 *
 * @example
 * ```ts
 * app.get('/admin', claimCheck((req, claims) => claims.isAdmin === true), handler);
 * ```
 */
export function claimCheck(check: ClaimChecker, message = 'a required claim is missing or has another value'): RequestHandler {
  if (typeof check !== 'function') throw new TypeError('claimCheck: the check must be a function');
  return (req, res, next) => {
    try {
      const rt = runtimeOf(req);
      const claims = req.oidc.idTokenClaims;
      if (claims === undefined) return requireLogin(rt, req, res, next, rt.config.errorOnRequiredAuth);
      if (check(req, claims)) return next();
      log.info('refused: the claim check failed, answering 403 (ERR_FORBIDDEN_CLAIM)');
      next(new OidcError('ERR_FORBIDDEN_CLAIM', message, { status: 403 }));
    } catch (err) {
      next(err);
    }
  };
}

/**
 * The claim must equal `expected`.
 *
 * @example
 * ```ts
 * app.get('/beta', claimEquals('email_verified', true), handler);
 * ```
 */
export function claimEquals(claim: string, expected: string | number | boolean | null): RequestHandler {
  if (typeof claim !== 'string') throw new TypeError('claimEquals: the claim name must be a string');
  return claimCheck((_req, claims) => claims[claim] === expected, `claim "${claim}" does not have the required value`);
}

/**
 * The claim (an array, or a space-separated string like `scope`) must include every value given.
 *
 * @example
 * ```ts
 * app.get('/reports', claimIncludes('roles', 'analyst'), handler);
 * ```
 */
export function claimIncludes(claim: string, ...expected: Array<string | number | boolean>): RequestHandler {
  if (typeof claim !== 'string') throw new TypeError('claimIncludes: the claim name must be a string');
  return claimCheck((_req, claims) => {
    const value = claims[claim];
    const list = typeof value === 'string' ? value.split(' ') : Array.isArray(value) ? value : [];
    return expected.every((item) => list.includes(item));
  }, `claim "${claim}" does not include the required values`);
}
