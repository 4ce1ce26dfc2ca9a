import type { NextFunction, Request, RequestHandler, Response } from 'express';
import session from 'express-session';
import { AuthClient } from '../client/auth-client.js';
import { ClientCredentials, type ClientCredentialsRequest } from '../client/client-credentials.js';
import type { TokenSet } from '../client/token-set.js';
import { getConfig } from '../config/index.js';
import { addLogger, debug } from '../debug.js';
import { isOidcError, loggableCode } from '../errors.js';
import type { AuthOptions, Config } from '../config/types.js';
import { attachContext } from '../context/attach.js';
import { Refresher } from '../refresh/index.js';
import { routeTable } from '../routes/index.js';
import { warnOnPermissiveTrustProxy } from '../routes/trust-proxy-warning.js';
import type { Runtime } from '../runtime.js';
import { Sessions } from '../session/index.js';
import { MemoryLogoutIndex } from '../session/logout-index.js';
import { withSharedState } from '../shared-state.js';
import { TransactionCookies } from '../transaction/index.js';
import { trySilentLogin } from './attempt-silent-login.js';
import { endIfLoggedOut } from './logged-out.js';
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
  /**
   * Resolves once the OP's discovery document and JWKS are loaded, so a wrong
   * `issuerBaseURL` or an unreachable OP shows at start-up rather than on a
   * user's first request. Rejects with the reason, an `OidcError`
   * (`ERR_DISCOVERY_FAILED` or `ERR_OP_UNREACHABLE`) whose message names the
   * URL and what to change. Not cached when it fails: call it from a health route.
   *
   * @example
   * ```ts
   * const authMiddleware = auth({ ... });
   * app.use(authMiddleware);
   * await authMiddleware.ready(); // fail the deployment, not the first user
   * app.get('/healthz', async (_req, res) => {
   *   try { await authMiddleware.ready(); res.send('ok'); } catch (err) { console.error(err); res.status(503).send('not ready'); }
   * });
   * ```
   */
  ready(): Promise<void>;
}

export function createRuntime(given: Config): Runtime {
  // A Redis session store also gives the cross-instance refresh lock and logout index.
  const config = withSharedState(given);
  const client = new AuthClient({
    issuerBaseURL: config.issuerBaseURL,
    clientID: config.clientID,
    ...(config.clientSecret === undefined ? {} : { clientSecret: config.clientSecret }),
    clientAuthMethod: config.clientAuthMethod,
    ...(config.clientAssertionSigningKey === undefined ? {} : { clientAssertionSigningKey: config.clientAssertionSigningKey }),
    ...(config.customFetch === undefined ? {} : { customFetch: config.customFetch }),
    useMtls: config.useMtls,
    ...(config.requestObjectSigningAlg === undefined ? {} : { requestObjectSigningAlg: config.requestObjectSigningAlg }),
    ...(config.requestObjectSigningKey === undefined ? {} : { requestObjectSigningKey: config.requestObjectSigningKey }),
    ...(config.requestObjectSigningKeyId === undefined ? {} : { requestObjectSigningKeyId: config.requestObjectSigningKeyId }),
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

/** Why a library route did not answer normally: the stable code and status, never the message. */
function logRefusal(route: string, err: unknown): void {
  const code = loggableCode(err);
  const status = isOidcError(err) ? err.status : 500;
  if (status < 500) log.info('%s refused: %s (%d)', route, code, status);
  else log.warn('%s failed: %s (%d)', route, code, status);
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
  const rt = createRuntime(getConfig(options));
  const { config } = rt;
  // The caller's own object (the config holds a frozen copy of a plain one).
  if (options.logger !== undefined) addLogger(options.logger);
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

  // express-openid-connect's per-request back-channel check, only when the app gives one.
  const isLoggedOut = config.backchannelLogout === false ? undefined : config.backchannelLogout.isLoggedOut || undefined;
  const checked =
    isLoggedOut === undefined
      ? afterSession
      : (req: Request, res: Response, next: NextFunction): void => {
          endIfLoggedOut(rt, isLoggedOut, req, res).then(() => afterSession(req, res, next), next);
        };

  // Express settings are known from the first request on; the check runs once.
  let firstRequest = config.passwordLogin !== false;
  const middleware = (req: Request, res: Response, next: NextFunction): void => {
    if (firstRequest) {
      firstRequest = false;
      warnOnPermissiveTrustProxy(req);
    }
    attachContext(req, res, next, rt);
    // A browser over the transaction-cookie budget (logins started in parallel) is brought back under it.
    rt.transactions.prune(req, res);
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
      checked(req, res, next);
    });
  };

  return Object.assign(middleware, {
    client: rt.client,
    config,
    clientCredentials: (request: ClientCredentialsRequest, options?: { signal?: AbortSignal }) => rt.clientCredentials.get(request, options),
    ready: () => rt.client.ready(),
  });
}

/**
 * express-session's `Store` class, for store factories written for
 * express-openid-connect: `require('memorystore')(auth)` reads `auth.Store`
 * to extend it.
 *
 * @example
 * ```js
 * const MemoryStore = require('memorystore')(auth);
 * app.use(auth({ session: { store: new MemoryStore({ checkPeriod: 86_400_000 }) } }));
 * ```
 */
auth.Store = session.Store;
