import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { AuthClient } from '../client/auth-client.js';
import { getConfig } from '../config/index.js';
import type { AuthOptions, Config } from '../config/types.js';
import { RequestContext } from '../context/request-context.js';
import { ResponseContext } from '../context/response-context.js';
import { debug } from '../debug.js';
import { OidcError } from '../errors.js';
import { Refresher } from '../refresh/index.js';
import { routeTable } from '../routes/index.js';
import type { Runtime } from '../runtime.js';
import { Sessions } from '../session/index.js';
import { MemoryLogoutIndex } from '../session/logout-index.js';
import { TransactionCookies } from '../transaction/index.js';
import { requireLogin } from './require-login.js';

const log = debug('auth');

/** The middleware `auth()` returns, with the `AuthClient` and config it uses. */
export interface AuthMiddleware extends RequestHandler {
  readonly client: AuthClient;
  readonly config: Config;
}

export function createRuntime(config: Config): Runtime {
  const client = new AuthClient({
    issuerBaseURL: config.issuerBaseURL,
    clientID: config.clientID,
    ...(config.clientSecret === undefined ? {} : { clientSecret: config.clientSecret }),
    clientAuthMethod: config.clientAuthMethod,
    ...(config.clientAssertionSigningKey === undefined ? {} : { clientAssertionSigningKey: config.clientAssertionSigningKey }),
    httpTimeout: config.httpTimeout,
    clockTolerance: config.clockTolerance,
    idTokenSigningAlg: config.idTokenSigningAlg,
    discoveryCacheMaxAge: config.discoveryCacheMaxAge,
    jwksCooldown: config.jwksCooldown,
    tokenEndpointParams: { ...config.tokenEndpointParams },
  });
  return {
    config,
    client,
    transactions: new TransactionCookies(config),
    sessions: new Sessions(config),
    refresher: new Refresher(config, client),
    logoutIndex: config.backchannelLogout === false ? undefined : (config.backchannelLogout.index ?? new MemoryLogoutIndex()),
  };
}

/**
 * Signs users in with OpenID Connect: mounts `/login`, `/callback` and
 * `/logout`, the session, `req.oidc` and `res.oidc`, keeps access tokens
 * fresh, and (with `authRequired`, the default) guards every route.
 * Options are validated here, once; a mistake throws naming the option.
 *
 * @example
 * ```ts
 * app.use(auth({ issuerBaseURL, baseURL, clientID, clientSecret, secret, authRequired: false }));
 * app.get('/profile', requiresAuth(), (req, res) => res.json(req.oidc.user));
 * ```
 */
export function auth(options: AuthOptions = {}): AuthMiddleware {
  const config = getConfig(options);
  const rt = createRuntime(config);
  const routes = routeTable(rt);

  /** After the session: refresh an expiring token, then guard the route. */
  const afterSession = (req: Request, res: Response, next: NextFunction): void => {
    const data = req.session?.oidc;
    if (data !== undefined && config.autoRefresh && data.refresh_token !== undefined && rt.refresher.needsRefresh(data)) {
      rt.refresher.fresh(req).then(
        () => guard(req, res, next),
        (err: unknown) => {
          // A rejected grant already signed the user out; an OP outage keeps the tokens and
          // lets the route decide (getAccessToken() will report it).
          log('automatic refresh failed (%s)', err instanceof OidcError ? err.code : 'error');
          guard(req, res, next);
        },
      );
      return;
    }
    guard(req, res, next);
  };

  const guard = (req: Request, res: Response, next: NextFunction): void => {
    if (config.authRequired && req.session?.oidc === undefined) return requireLogin(rt, req, res, next, config.errorOnRequiredAuth);
    next();
  };

  const middleware = (req: Request, res: Response, next: NextFunction): void => {
    req.oidc = new RequestContext(req, rt);
    res.oidc = new ResponseContext(req, res, next, rt);
    rt.sessions.load(req, res, (err?: unknown) => {
      if (err) return next(err);
      const route = routes.get(`${req.method} ${req.path}`);
      if (route !== undefined) {
        route(req, res).catch(next);
        return;
      }
      afterSession(req, res, next);
    });
  };

  return Object.assign(middleware, { client: rt.client, config });
}
