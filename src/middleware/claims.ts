import type { Request, RequestHandler } from 'express';
import type { IdTokenClaims } from '../context/claims.js';
import { debug } from '../debug.js';
import { OidcError } from '../errors.js';
import { requireLogin, runtimeOf } from './require-login.js';

/** A claim value `claimEquals` and `claimIncludes` compare with (`===`). */
export type ClaimValue = string | number | boolean | null;

/** Decides from the request and the ID token's claims whether the route may run. */
export type ClaimChecker = (req: Request, claims: IdTokenClaims) => boolean;

const log = debug('guard');

function isClaimValue(value: unknown): value is ClaimValue {
  return value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

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
  // A promise is truthy: an async check would let everyone through.
  if (check.constructor.name === 'AsyncFunction') throw new TypeError('claimCheck: the check must be synchronous (an async function returns a promise, not true or false)');
  if (typeof message !== 'string' || message.length === 0) throw new TypeError('claimCheck: the message must be a non-empty string');
  return (req, res, next) => {
    try {
      const rt = runtimeOf(req);
      const claims = req.oidc.idTokenClaims;
      if (claims === undefined) return requireLogin(rt, req, res, next, rt.config.errorOnRequiredAuth);
      const verdict: unknown = check(req, claims);
      if (typeof (verdict as { then?: unknown } | null)?.then === 'function') {
        // A promise is truthy but decides nothing yet: a mistake in the check, never a pass.
        (verdict as Promise<unknown>).then(undefined, () => {});
        return next(new OidcError('ERR_CONFIG_INVALID', 'claimCheck: the check must return true or false, not a promise', { status: 500 }));
      }
      // Truthy passes, as in express-openid-connect (`claims.isAdmin || roles.includes(...)`).
      if (verdict) return next();
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
export function claimEquals(claim: string, expected: ClaimValue): RequestHandler {
  if (typeof claim !== 'string') throw new TypeError('claimEquals: the claim name must be a string');
  if (arguments.length !== 2) throw new TypeError('claimEquals: takes a claim name and one value');
  if (!isClaimValue(expected)) throw new TypeError('claimEquals: the value must be a string, a number, a boolean or null');
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
export function claimIncludes(claim: string, ...expected: ClaimValue[]): RequestHandler {
  if (typeof claim !== 'string') throw new TypeError('claimIncludes: the claim name must be a string');
  // No value would let every signed-in user through: certainly not what was meant.
  if (expected.length === 0) throw new TypeError('claimIncludes: give at least one value the claim must include');
  if (!expected.every(isClaimValue)) throw new TypeError('claimIncludes: each value must be a string, a number, a boolean or null');
  return claimCheck((_req, claims) => {
    const value = claims[claim];
    const list: unknown[] = typeof value === 'string' ? value.split(' ') : Array.isArray(value) ? value : [];
    return expected.every((item) => list.includes(item));
  }, `claim "${claim}" does not include the required values`);
}
