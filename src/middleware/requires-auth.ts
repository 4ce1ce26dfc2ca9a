import type { RequestHandler } from 'express';
import { requireLogin, runtimeOf } from './require-login.js';

export interface RequiresAuthOptions {
  /** Answer 401 instead of redirecting browsers to login (default: the `auth()` option). */
  errorOnRequiredAuth?: boolean;
}

/**
 * Guards a route: a signed-in user passes; a browser page load is sent to
 * login and brought back; any other request gets a 401 error.
 *
 * @example
 * ```ts
 * app.get('/profile', requiresAuth(), (req, res) => res.json(req.oidc.user));
 * app.get('/api/me', requiresAuth({ errorOnRequiredAuth: true }), handler);
 * ```
 */
export function requiresAuth(options: RequiresAuthOptions = {}): RequestHandler {
  return (req, res, next) => {
    try {
      const rt = runtimeOf(req);
      if (req.oidc.isAuthenticated()) return next();
      requireLogin(rt, req, res, next, options.errorOnRequiredAuth ?? rt.config.errorOnRequiredAuth);
    } catch (err) {
      next(err);
    }
  };
}
