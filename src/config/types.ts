import type { Request, Response } from 'express';
import type { Store } from 'express-session';
import type { SigningAlg, SigningKey } from '../client/signing-key.js';
import type { CustomFetch, TransportOptions } from '../client/transport.js';
import type { Logger } from '../debug.js';
import type { RefreshLock } from '../refresh/lock.js';
import type { LogoutIndex } from '../session/logout-index.js';

/**
 * Parameters sent to the OP's authorization endpoint: the standard ones below,
 * and any other key (e.g. `ui_locales`, `login_hint`, `acr_values`), passed
 * through as it is. Values must be strings, numbers or booleans.
 */
export interface AuthorizationParams {
  /**
   * The OAuth 2.0 response type; only the authorization code flow is supported.
   * @defaultValue 'code'
   */
  response_type?: 'code';
  /**
   * How the OP returns the code: in the query of a redirect, or as a form POST
   * to the callback (then the transaction cookie is `SameSite=None` on https).
   * @defaultValue (OP default: query)
   */
  response_mode?: 'query' | 'form_post';
  /**
   * Space-separated scopes to request; must include `openid`. Add
   * `offline_access` for a refresh token.
   * @defaultValue 'openid profile email'
   */
  scope?: string;
  /** The API the access token is for (Auth0's `audience`); none by default. */
  audience?: string;
  /** The Auth0 organization (ID or name) to log in to; the ID token's `org_id` / `org_name` is then checked. */
  organization?: string;
  /** An Auth0 organization invitation ticket. */
  invitation?: string;
  /** The Auth0 connection (identity provider) to use, skipping the OP's choice page. */
  connection?: string;
  /** `none`, `login`, `consent` or `select_account`; none by default (the OP decides). */
  prompt?: string;
  /**
   * Seconds since the user's last authentication at the OP beyond which they
   * must sign in again; the ID token's `auth_time` is then checked. None by default.
   */
  max_age?: number;
  /** Any other authorization parameter, sent as it is. */
  [param: string]: unknown;
}

/** How the client authenticates at the OP's token endpoint. */
export type ClientAuthMethod =
  | 'client_secret_basic'
  | 'client_secret_post'
  | 'client_secret_jwt'
  | 'private_key_jwt'
  | 'tls_client_auth'
  | 'self_signed_tls_client_auth'
  | 'none';

/** Attributes of the session cookie. */
export interface SessionCookieOptions {
  /**
   * The cookie's Domain attribute, to share the session with sub-domains.
   * @defaultValue (host only)
   */
  domain?: string;
  /**
   * The cookie's Path attribute.
   * @defaultValue '/'
   */
  path?: string;
  /**
   * Send the cookie over https only; true when `baseURL` is https, and it
   * cannot be true on http.
   * @defaultValue true on https
   */
  secure?: boolean;
  /**
   * The cookie's SameSite attribute; `'None'` needs `secure`.
   * @defaultValue 'Lax'
   */
  sameSite?: 'Lax' | 'Strict' | 'None';
  /**
   * A browser-session cookie (no Max-Age, gone when the browser closes); the
   * server-side lifetimes still apply.
   * @defaultValue false
   */
  transient?: boolean;
  /**
   * Always `true`: the session cookie is never readable by scripts; `false` is refused.
   * @defaultValue true
   */
  httpOnly?: true;
}

/** The session: express-session underneath, with rolling and absolute lifetimes. */
export interface SessionOptions {
  /**
   * Any express-session store, e.g. connect-redis for many instances. The
   * default is an in-process store that prunes expired sessions (one machine only).
   * @defaultValue in-process store
   */
  store?: Store;
  /**
   * The session cookie's name.
   * @defaultValue 'appSession'
   */
  name?: string;
  /**
   * Whether activity extends the session by `rollingDuration`, up to `absoluteDuration`.
   * @defaultValue true
   */
  rolling?: boolean;
  /**
   * Seconds of inactivity after which a rolling session ends.
   * @defaultValue 86400 (1 day)
   */
  rollingDuration?: number;
  /**
   * Seconds after login after which the session ends, activity or not; `false` for no limit.
   * @defaultValue 604800 (7 days)
   */
  absoluteDuration?: number | false;
  /**
   * Milliseconds a session-store call may take before the request fails with 503.
   * @defaultValue 2000
   */
  storeTimeout?: number;
  /**
   * Attributes of the session cookie.
   * @defaultValue {}
   */
  cookie?: SessionCookieOptions;
}

/** Paths of the routes `auth()` mounts, on `baseURL`. */
export interface RoutesOptions {
  /**
   * The login route, or `false` to mount none (the app then calls `res.oidc.login()`).
   * @defaultValue '/login'
   */
  login?: string | false;
  /**
   * The logout route, or `false` to mount none (the app then calls `res.oidc.logout()`).
   * @defaultValue '/logout'
   */
  logout?: string | false;
  /**
   * The callback route: the redirect URI registered at the OP is `baseURL` +
   * this path. `false` mounts no callback route: the app mounts its own (GET,
   * and POST for `form_post`) and calls `res.oidc.callback()` there.
   * @defaultValue '/callback'
   */
  callback?: string | false;
  /**
   * Where users land after logout: a path on `baseURL`, or an absolute URL on it.
   * @defaultValue '/'
   */
  postLogoutRedirect?: string;
  /**
   * The back-channel logout route (mounted when `backchannelLogout` is on).
   * @defaultValue '/backchannel-logout'
   */
  backchannelLogout?: string;
  /**
   * The password login route (mounted when `passwordLogin` is on).
   * @defaultValue '/login/password'
   */
  passwordLogin?: string;
}

/** What the session holds for a signed-in user; `afterCallback` may change it. */
export interface SessionTokens {
  /** The ID token of the login (validated before it is stored). */
  id_token: string;
  /** The access token, when the OP issued one. */
  access_token?: string;
  /** The access token's type, e.g. `Bearer` or `DPoP`. */
  token_type?: string;
  /** Epoch seconds at which the access token expires. */
  expires_at?: number;
  /** The refresh token, when the OP issued one (ask for `offline_access`). */
  refresh_token?: string;
  /** The scope the OP granted the access token. */
  scope?: string;
  /** Anything `afterCallback` adds. */
  [extra: string]: unknown;
}

/** Options of a login (`res.oidc.login()`, and what `getLoginState` receives). */
export interface LoginOptions {
  /** Where to go after login; must be on the app's origin. Defaults to the current URL for a protected route, else `baseURL`. */
  returnTo?: string;
  /** Authorization parameters for this login, merged over the `authorizationParams` option. */
  authorizationParams?: AuthorizationParams;
  /** Internal: marks a silent login attempt. */
  silent?: boolean;
}

/**
 * Called after a login, before the session is stored: returns what the
 * session keeps (e.g. without the refresh token, or with extra data).
 * `state` is what `getLoginState` built.
 */
export type AfterCallback = (
  req: Request,
  res: Response,
  session: SessionTokens,
  state: Record<string, unknown>,
) => SessionTokens | Promise<SessionTokens>;

/** Builds the app state carried through the login and given to `afterCallback`; must include `returnTo`. */
export type GetLoginState = (req: Request, options: LoginOptions) => Record<string, unknown>;

/** DPoP (RFC 9449): tokens bound to a key pair of the app. */
export interface DPoPOptions {
  /**
   * The key pair proofs are signed with; generated at start-up when absent (one per instance).
   * @defaultValue generated per instance
   */
  keyPair?: CryptoKeyPair;
  /**
   * Signing algorithm of a generated key.
   * @defaultValue 'ES256'
   */
  alg?: 'ES256' | 'ES384' | 'EdDSA' | 'PS256' | 'RS256';
}

/** The transaction cookie: state, nonce and PKCE verifier of a login in progress, signed and short-lived. */
export interface TransactionCookieOptions {
  /**
   * Name prefix of the transaction cookies.
   * @defaultValue 'auth_verification'
   */
  name?: string;
  /**
   * SameSite of the transaction cookies (a form_post login on https uses `'None'`).
   * @defaultValue 'Lax'
   */
  sameSite?: 'Lax' | 'Strict' | 'None';
}

/**
 * Back-channel logout, with express-openid-connect's hooks. Without hooks the
 * library files each session under its `sid` and `sub` at login and, when a
 * valid logout token arrives, destroys the sessions it names in the session
 * store.
 */
export interface BackchannelLogoutOptions {
  /**
   * Which sessions belong to whom. Default: in-process, or a `RedisLogoutIndex`
   * on the store's client when `session.store` is connect-redis.
   * @defaultValue in-process (Redis when `session.store` is connect-redis)
   */
  index?: LogoutIndex;
  /**
   * express-openid-connect's place for logout entries: here a connect-redis
   * store on a node-redis client, whose client then keeps the logout index (a
   * `RedisLogoutIndex`). Any other store is refused at start-up: use `index`.
   * @defaultValue (none)
   */
  store?: Store;
  /**
   * Called with the claims of a validated, not replayed logout token; it ends
   * the sessions the token names itself, instead of the built-in lookup. A
   * rejection answers the OP with a 5xx.
   * @defaultValue (none)
   */
  onLogoutToken?: (claims: Record<string, unknown>, config: Config) => Promise<void> | void;
  /**
   * Checked on every request that has a signed-in session (costs a call per
   * request): `true` ends the session before the route runs. `false` or absent:
   * no check (the built-in logout already destroyed the session).
   * @defaultValue (none)
   */
  isLoggedOut?: false | ((req: Request, config: Config) => Promise<boolean> | boolean);
  /**
   * Called after each login, once the session is stored. `false` or absent: none.
   * @defaultValue (none)
   */
  onLogin?: false | ((req: Request, config: Config) => Promise<void> | void);
}

/** One attempt at the password login route, as the throttle hook sees it. */
export interface LoginAttempt {
  /** `req.ip` (Express's `trust proxy` applies); the empty string when unknown. */
  ip: string;
  /** The username as typed (for the MFA step: the one the pending login started with). */
  username: string;
  /** `password` for a username and password, `mfa` for a one-time code. */
  step: 'password' | 'mfa';
}

/**
 * Called before each attempt at the password login route, before the OP is
 * asked: resolve `false` to refuse it with 429 `ERR_LOGIN_THROTTLED`. Count
 * attempts per `ip` and per `username` (a rate limiter's `consume()`); an
 * error it throws goes to Express's error handling.
 */
export type LoginThrottle = (attempt: LoginAttempt, req: Request) => boolean | Promise<boolean>;

/** `passwordLogin` as an object. */
export interface PasswordLoginOptions {
  /**
   * Auth0 database connection: sends the password-realm grant with this realm.
   * @defaultValue (none)
   */
  realm?: string;
  /**
   * API the access token is for (when absent, `authorizationParams.audience`).
   * @defaultValue (none)
   */
  audience?: string;
  /**
   * Scopes to ask for (when absent, `authorizationParams.scope`); `openid` is always added.
   * @defaultValue (none)
   */
  scope?: string;
  /**
   * Refuses attempts before they reach the OP (see `LoginThrottle`).
   * @defaultValue (none)
   */
  throttle?: LoginThrottle;
}

/**
 * Options of `auth()`. The env vars `ISSUER_BASE_URL`, `BASE_URL`,
 * `CLIENT_ID`, `CLIENT_SECRET` and `SECRET` fill the five connection options
 * when they are absent. An unknown option fails at start-up.
 */
export interface AuthOptions extends TransportOptions {
  /**
   * The OP's issuer URL; discovery is read from its `/.well-known/openid-configuration`.
   * https, or http on localhost. Env var `ISSUER_BASE_URL`.
   * @defaultValue (required)
   */
  issuerBaseURL?: string;
  /**
   * The app's own public URL; routes and `returnTo` are resolved against it.
   * Env var `BASE_URL`.
   * @defaultValue (required)
   */
  baseURL?: string;
  /**
   * The client ID registered at the OP. Env var `CLIENT_ID`.
   * @defaultValue (required)
   */
  clientID?: string;
  /**
   * The client secret; required for the `client_secret_*` methods. Env var `CLIENT_SECRET`.
   * @defaultValue (none)
   */
  clientSecret?: string;
  /**
   * Signs the session and transaction cookies (32 characters or more); an array
   * rotates secrets: the first signs, all verify. Env var `SECRET`.
   * @defaultValue (required)
   */
  secret?: string | string[];
  /**
   * Require a login on every route; `false` to guard routes one by one with `requiresAuth()`.
   * @defaultValue true
   */
  authRequired?: boolean;
  /**
   * Parameters for the authorization endpoint (`audience`, `organization`, `prompt`, `max_age`, ...).
   * @defaultValue { response_type: 'code', scope: 'openid profile email' }
   */
  authorizationParams?: AuthorizationParams;
  /**
   * Send the authorization parameters through the OP's pushed authorization
   * request (PAR, RFC 9126) endpoint.
   * @defaultValue false
   */
  pushedAuthorizationRequests?: boolean;
  /**
   * Paths of the routes `auth()` mounts.
   * @defaultValue {}
   */
  routes?: RoutesOptions;
  /**
   * Also end the user's session at the OP on logout (RP-initiated logout, or Auth0's `/v2/logout`).
   * @defaultValue false
   */
  idpLogout?: boolean;
  /**
   * Extra parameters for the OP's end-session endpoint. Numbers and booleans
   * are sent as text; null or undefined leaves a parameter out.
   * @defaultValue {}
   */
  logoutParams?: Record<string, unknown>;
  /**
   * Session settings (express-session underneath).
   * @defaultValue {}
   */
  session?: SessionOptions;
  /**
   * The short-lived cookie that carries state, nonce and PKCE verifier.
   * @defaultValue {}
   */
  transactionCookie?: TransactionCookieOptions;
  /**
   * How the client authenticates at the token endpoint.
   * @defaultValue 'tls_client_auth' with useMtls, 'client_secret_basic' with a secret, 'private_key_jwt' with a key, else 'none'
   */
  clientAuthMethod?: ClientAuthMethod;
  /**
   * Seconds of clock skew tolerated in ID token checks (`exp`, `iat`, `auth_time`).
   * @defaultValue 60
   */
  clockTolerance?: number;
  /**
   * Milliseconds any call to the OP may take before it fails with `ERR_OP_UNREACHABLE`.
   * @defaultValue 5000
   */
  httpTimeout?: number;
  /**
   * The only `alg` accepted for ID tokens.
   * @defaultValue 'RS256'
   */
  idTokenSigningAlg?: string;
  /**
   * Milliseconds discovery (and the JWKS) stay cached; failures are never cached.
   * @defaultValue 600000 (10 min)
   */
  discoveryCacheMaxAge?: number;
  /**
   * Milliseconds before an unknown `kid` may refetch the OP's JWKS again.
   * @defaultValue 30000
   */
  jwksCooldown?: number;
  /**
   * `(req, res, session, state) => session`: changes what is stored after login.
   * @defaultValue (none)
   */
  afterCallback?: AfterCallback;
  /**
   * Builds the app state carried through login (returned to `afterCallback`).
   * @defaultValue `{ returnTo }`
   */
  getLoginState?: GetLoginState;
  /**
   * ID token claims left out of `req.oidc.user` (the protocol claims `aud`,
   * `iss`, `iat`, `exp`, `nbf`, `nonce`, `azp`, `auth_time`, `s_hash`,
   * `at_hash`, `c_hash`, `sid`).
   * @defaultValue protocol claims
   */
  identityClaimFilter?: string[];
  /**
   * Extra parameters for every token endpoint request. Numbers and booleans
   * are sent as text; null or undefined leaves a parameter out.
   * @defaultValue {}
   */
  tokenEndpointParams?: Record<string, unknown>;
  /**
   * Answer 401 instead of redirecting browsers to login when a route needs a login.
   * @defaultValue false
   */
  errorOnRequiredAuth?: boolean;
  /**
   * Try a `prompt=none` login once on a browser's first visit.
   * @defaultValue false
   */
  attemptSilentLogin?: boolean;
  /**
   * Refresh an expiring access token before route handlers run.
   * @defaultValue true
   */
  autoRefresh?: boolean;
  /**
   * Seconds before expiry at which an access token is refreshed (at most half its lifetime).
   * @defaultValue 60
   */
  refreshLeeway?: number;
  /**
   * Milliseconds one request may spend on refreshing its tokens, however many
   * lock waits, store calls and OP calls that takes. Past it the request gets
   * its current access token when it has not expired yet, and otherwise a 503
   * `ERR_REFRESH_TIMEOUT`; a refresh already under way goes on for the
   * requests that share it (twice the default `httpTimeout`).
   * @defaultValue 10000
   */
  refreshDeadline?: number;
  /**
   * How `getAccessToken({ audience })` names the API in its `refresh_token`
   * grant: `'audience'` (Auth0 Multi-Resource Refresh Token) or `'resource'`
   * (RFC 8707 resource indicators).
   * @defaultValue 'audience'
   */
  resourceParameter?: 'audience' | 'resource';
  /**
   * Most APIs whose access tokens one session keeps (`getAccessToken({ audience })`);
   * past it the least recently used is dropped (and obtained again when asked for).
   * @defaultValue 10
   */
  maxCachedApis?: number;
  /**
   * Coordinates refreshes of one session across instances (`RedisRefreshLock`);
   * the default coordinates them within this process.
   * @defaultValue in-process
   */
  refreshLock?: RefreshLock;
  /**
   * Revoke the refresh token at the OP on logout.
   * @defaultValue true
   */
  revokeOnLogout?: boolean;
  /**
   * Accept OIDC back-channel logout tokens at `routes.backchannelLogout`
   * (`true`, or `{ index }` to share logged-out sessions across instances).
   * @defaultValue false
   */
  backchannelLogout?: boolean | BackchannelLogoutOptions;
  /**
   * Mount a password login route at `routes.passwordLogin` (`true`, or
   * `{ realm, audience, scope }`).
   * @defaultValue false
   */
  passwordLogin?: boolean | PasswordLoginOptions;
  /**
   * Bind tokens to a DPoP key (`true`, or `{ keyPair, alg }`).
   * @defaultValue false
   */
  useDPoP?: boolean | DPoPOptions;
  /**
   * Also send the library's log lines to this logger (pino, winston, `console`:
   * any object with `debug`, `info`, `warn` and `error`), for apps that do not
   * use `DEBUG=express-oidc:*`. Each line is one formatted string without
   * secrets, tokens, codes or cookie values: routes handled and OP calls with
   * their durations at `debug`, refused requests at `info`, failures at `warn`.
   * The lines of every `auth()` in the process go to every logger given.
   * @defaultValue (none)
   */
  logger?: Logger;
}

/** The validated, frozen, fully defaulted configuration. */
export interface Config {
  issuerBaseURL: string;
  baseURL: string;
  clientID: string;
  clientSecret: string | undefined;
  secret: readonly string[];
  authRequired: boolean;
  authorizationParams: Readonly<AuthorizationParams> & { response_type: 'code'; scope: string };
  pushedAuthorizationRequests: boolean;
  routes: Readonly<Required<Omit<RoutesOptions, 'login' | 'logout' | 'callback'>> & { login: string | false; logout: string | false; callback: string | false }>;
  idpLogout: boolean;
  logoutParams: Readonly<Record<string, string>>;
  session: Readonly<{
    store: Store | undefined;
    name: string;
    rolling: boolean;
    rollingDuration: number;
    absoluteDuration: number | false;
    storeTimeout: number;
    cookie: Readonly<{ domain: string | undefined; path: string; secure: boolean; sameSite: 'Lax' | 'Strict' | 'None'; transient: boolean; httpOnly: true }>;
  }>;
  transactionCookie: Readonly<{ name: string; sameSite: 'Lax' | 'Strict' | 'None' }>;
  clientAuthMethod: ClientAuthMethod;
  clientAssertionSigningKey: SigningKey | undefined;
  clientAssertionSigningAlg: SigningAlg | undefined;
  customFetch: CustomFetch | undefined;
  useMtls: boolean;
  requestObjectSigningAlg: SigningAlg | undefined;
  requestObjectSigningKey: SigningKey | undefined;
  requestObjectSigningKeyId: string | undefined;
  clockTolerance: number;
  httpTimeout: number;
  idTokenSigningAlg: string;
  discoveryCacheMaxAge: number;
  jwksCooldown: number;
  afterCallback: AfterCallback | undefined;
  getLoginState: GetLoginState;
  identityClaimFilter: readonly string[];
  tokenEndpointParams: Readonly<Record<string, string>>;
  errorOnRequiredAuth: boolean;
  attemptSilentLogin: boolean;
  autoRefresh: boolean;
  refreshLeeway: number;
  refreshDeadline: number;
  resourceParameter: 'audience' | 'resource';
  maxCachedApis: number;
  refreshLock: RefreshLock | undefined;
  revokeOnLogout: boolean;
  backchannelLogout:
    | false
    | {
        index: LogoutIndex | undefined;
        store: Store | undefined;
        onLogoutToken: BackchannelLogoutOptions['onLogoutToken'];
        isLoggedOut: BackchannelLogoutOptions['isLoggedOut'];
        onLogin: BackchannelLogoutOptions['onLogin'];
      };
  passwordLogin: false | { realm: string | undefined; audience: string | undefined; scope: string | undefined; throttle: LoginThrottle | undefined };
  useDPoP: false | { keyPair: CryptoKeyPair | undefined; alg: NonNullable<DPoPOptions['alg']> };
  logger: Logger | undefined;
}
