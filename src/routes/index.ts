import type { Request, Response } from 'express';
import type { Runtime } from '../runtime.js';
import { backchannelLogout } from './backchannel-logout.js';
import { callback } from './callback.js';
import { login } from './login.js';
import { logoutRoute } from './logout.js';
import { passwordLogin } from './password-login.js';

export { login } from './login.js';
export { callback, type CallbackOptions } from './callback.js';
export { logout, type LogoutOptions } from './logout.js';
export { safeReturnTo } from './return-to.js';
export { passwordLogin } from './password-login.js';
export { backchannelLogout } from './backchannel-logout.js';

export type RouteHandler = (req: Request, res: Response) => Promise<void>;

/** `?returnTo=` of the login and logout routes (validated later against the app's origin). */
function returnToQuery(req: Request): string | undefined {
  const value = new URL(req.originalUrl ?? req.url, 'http://query.invalid').searchParams.getAll('returnTo');
  return value.length === 1 ? value[0] : undefined;
}

/** The routes `auth()` answers, keyed by `METHOD path`, so dispatch is one map lookup. */
export function routeTable(rt: Runtime): Map<string, RouteHandler> {
  const { routes } = rt.config;
  const table = new Map<string, RouteHandler>();
  if (routes.login !== false) {
    table.set(`GET ${routes.login}`, (req, res) => {
      const returnTo = returnToQuery(req);
      return login(rt, req, res, returnTo === undefined ? {} : { returnTo });
    });
  }
  if (routes.callback !== false) {
    table.set(`GET ${routes.callback}`, (req, res) => callback(rt, req, res));
    table.set(`POST ${routes.callback}`, (req, res) => callback(rt, req, res));
  }
  if (routes.logout !== false) {
    // GET from the app's own pages; POST from the confirmation page a cross-site GET gets.
    const logoutHandler: RouteHandler = (req, res) => {
      const returnTo = returnToQuery(req);
      return logoutRoute(rt, req, res, returnTo === undefined ? {} : { returnTo });
    };
    table.set(`GET ${routes.logout}`, logoutHandler);
    table.set(`POST ${routes.logout}`, logoutHandler);
  }
  if (rt.config.passwordLogin !== false) {
    table.set(`POST ${routes.passwordLogin}`, (req, res) => passwordLogin(rt, req, res));
  }
  const { logoutIndex } = rt;
  if (logoutIndex !== undefined) {
    table.set(`POST ${routes.backchannelLogout}`, (req, res) => backchannelLogout(rt, logoutIndex, req, res));
  }
  return table;
}
