import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { AuthClient } from '../client/auth-client.js';
import { ClientCredentials, type ClientCredentialsRequest } from '../client/client-credentials.js';
import type { TokenSet } from '../client/token-set.js';
import { getConfig } from '../config/index.js';
import { addLogger, debug } from '../debug.js';
import { isOidcError } from '../errors.js';
import type { AuthOptions, Config } from '../config/types.js';
import { attachContext } from '../context/attach.js';
import { Refresher } from '../refresh/index.js';
import { routeTable } from '../routes/index.js';
import type { Runtime } from '../runtime.js';
import { Sessions } from '../session/index.js';
import { MemoryLogoutIndex } from '../session/logout-index.js';
import { TransactionCookies } from '../transaction/index.js';
import { trySilentLogin } from './attempt-silent-login.js';
import { requireLogin } from './require-login.js';

const log = debug('route');

/** The middleware `auth()` returns, with the `AuthClient` and config it uses. */
export interface AuthMiddleware extends RequestHandler {
  readonly client: AuthClient;
  readonly config: Config;
  /**
   * A machine-to-machine (client credentials) access token for `audience`
   * (and `organization`), cached until shortly before it expires, one OP
   * request however many callers ask at once. For jobs and routes that call
   * APIs as the app rather than as the user.
   *
   * @example
   * ```ts
   * const { accessToken, tokenType } = await authMiddleware.clientCredentials({ audience: 'https://api.example.com' });
   * ```
   */
  clientCredentials(request: ClientCredentialsRequest, options?: { signal?: AbortSignal }): Promise<TokenSet>;
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
    ...(config.useDPoP === false ? {} : { useDPoP: config.useDPoP }),
  });
  return {
    config,
    client,
    transactions: new TransactionCookies(config),
    sessions: new Sessions(config),
    refresher: new Refresher(config, client),
    clientCredentials: new ClientCredentials(client, { leeway: config.refreshLeeway }),
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
/** Why a library route did not answer normally: the stable code and status, never the message. */
function logRefusal(route: string, err: unknown): void {
  const code = isOidcError(err) ? err.code : 'an unexpected error';
  const status = isOidcError(err) ? err.status : 500;
  if (status < 500) log.info('%s refused: %s (%d)', route, code, status);
  else log.warn('%s failed: %s (%d)', route, code, status);
}

export function auth(options: AuthOptions = {}): AuthMiddleware {
  const config = getConfig(options);
  // The caller's own object (the config holds a frozen copy of a plain one).
  if (options.logger !== undefined) addLogger(options.logger);
  const rt = createRuntime(config);
  const routes = routeTable(rt);

  /** After the session: refresh an expiring token, then guard the route. */
  const afterSession = (req: Request, res: Response, next: NextFunction): void => {
    if (config.autoRefresh && rt.refresher.wantsAutoRefresh(req)) {
      // Never rejects: a rejected grant has signed the user out (the guard then asks for a
      // login); an OP outage keeps the tokens and getAccessToken() reports it to the route.
      rt.refresher
        .autoRefresh(req)
        .then(() => guard(req, res, next))
        .catch(next);
      return;
    }
    guard(req, res, next);
  };

  const protect = (req: Request, res: Response, next: NextFunction): void => {
    if (config.authRequired && req.session?.oidc === undefined) return requireLogin(rt, req, res, next, config.errorOnRequiredAuth);
    next();
  };

  const guard = (req: Request, res: Response, next: NextFunction): void => {
    // A silent attempt comes first, so a user with an OP session never sees the login page.
    if (config.attemptSilentLogin) return trySilentLogin(rt, req, res, () => protect(req, res, next));
    protect(req, res, next);
  };

  const middleware = (req: Request, res: Response, next: NextFunction): void => {
    attachContext(req, res, next, rt);
    rt.sessions.load(req, res, (err?: unknown) => {
      if (err) return next(err);
      const key = `${req.method} ${req.path}`;
      const route = routes.get(key);
      if (route !== undefined) {
        // The key is one of the configured routes: the log shows no request data.
        if (log.enabled) log('handling %s', key);
        route(req, res).catch((err: unknown) => {
          if (log.enabled) logRefusal(key, err);
          next(err);
        });
        return;
      }
      afterSession(req, res, next);
    });
  };

  return Object.assign(middleware, {
    client: rt.client,
    config,
    clientCredentials: (request: ClientCredentialsRequest, options?: { signal?: AbortSignal }) => rt.clientCredentials.get(request, options),
  });
}
