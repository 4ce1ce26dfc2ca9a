import type { Request, Response } from 'express';
import type { Store } from 'express-session';
import type { SigningAlg, SigningKey } from '../client/signing-key.js';
import type { CustomFetch, TransportOptions } from '../client/transport.js';
import type { RefreshLock } from '../refresh/lock.js';
import type { LogoutIndex } from '../session/logout-index.js';

/** Parameters sent to the OP's authorization endpoint. Any extra key is passed through. */
export interface AuthorizationParams {
  response_type?: 'code';
  response_mode?: 'query' | 'form_post';
  scope?: string;
  audience?: string;
  organization?: string;
  invitation?: string;
  connection?: string;
  prompt?: string;
  max_age?: number;
  [param: string]: unknown;
}

export type ClientAuthMethod =
  | 'client_secret_basic'
  | 'client_secret_post'
  | 'client_secret_jwt'
  | 'private_key_jwt'
  | 'tls_client_auth'
  | 'self_signed_tls_client_auth'
  | 'none';

export interface SessionCookieOptions {
  domain?: string;
  path?: string;
  /** Defaults to true when `baseURL` is https. */
  secure?: boolean;
  sameSite?: 'Lax' | 'Strict' | 'None';
  /** A browser-session cookie (no Max-Age); the server-side lifetimes still apply. */
  transient?: boolean;
  /** Always `true` (the default): the session cookie is never readable by scripts; `false` is refused. */
  httpOnly?: true;
}

export interface SessionOptions {
  /** Any express-session store. Defaults to an in-process store that prunes expired sessions. */
  store?: Store;
  /** Cookie name. */
  name?: string;
  /** Whether activity extends the session (up to `absoluteDuration`). */
  rolling?: boolean;
  /** Seconds of inactivity after which a rolling session ends. */
  rollingDuration?: number;
  /** Seconds after login after which the session ends, activity or not; `false` for none. */
  absoluteDuration?: number | false;
  /** Milliseconds a session-store call may take before the request fails with 503. */
  storeTimeout?: number;
  cookie?: SessionCookieOptions;
}

export interface RoutesOptions {
  login?: string | false;
  logout?: string | false;
  /**
   * The redirect URI path (default `'/callback'`); `false` mounts no callback
   * route: the app mounts its own (GET, and POST for `form_post`) and calls
   * `res.oidc.callback()` there.
   */
  callback?: string | false;
  /** Where the OP sends the user after `/logout` (default `baseURL`). */
  postLogoutRedirect?: string;
  backchannelLogout?: string;
  passwordLogin?: string;
}

/** What the session holds for a signed-in user; `afterCallback` may change it. */
export interface SessionTokens {
  id_token: string;
  access_token?: string;
  token_type?: string;
  /** Epoch seconds. */
  expires_at?: number;
  refresh_token?: string;
  scope?: string;
  [extra: string]: unknown;
}

export interface LoginOptions {
  /** Where to go after login; must be on the app's origin. */
  returnTo?: string;
  authorizationParams?: AuthorizationParams;
  /** Internal: marks a silent login attempt. */
  silent?: boolean;
}

export type AfterCallback = (
  req: Request,
  res: Response,
  session: SessionTokens,
  state: Record<string, unknown>,
) => SessionTokens | Promise<SessionTokens>;

export type GetLoginState = (req: Request, options: LoginOptions) => Record<string, unknown>;

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
   */
  index?: LogoutIndex;
  /**
   * express-openid-connect's place for logout entries: here a connect-redis
   * store on a node-redis client, whose client then keeps the logout index (a
   * `RedisLogoutIndex`). Any other store is refused at start-up: use `index`.
   */
  store?: Store;
  /**
   * Called with the claims of a validated, not replayed logout token; it ends
   * the sessions the token names itself, instead of the built-in lookup. A
   * rejection answers the OP with a 5xx. Default: none.
   */
  onLogoutToken?: (claims: Record<string, unknown>, config: Config) => Promise<void> | void;
  /**
   * Checked on every request that has a signed-in session (costs a call per
   * request): `true` ends the session before the route runs. `false` or absent:
   * no check (the built-in logout already destroyed the session).
   */
  isLoggedOut?: false | ((req: Request, config: Config) => Promise<boolean> | boolean);
  /** Called after each login, once the session is stored. `false` or absent: none. */
  onLogin?: false | ((req: Request, config: Config) => Promise<void> | void);
}

export interface DPoPOptions {
  /** The key pair proofs are signed with; generated at start-up when absent (one per instance). */
  keyPair?: CryptoKeyPair;
  /** Signing algorithm of a generated key (default ES256). */
  alg?: 'ES256' | 'ES384' | 'EdDSA' | 'PS256' | 'RS256';
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
  /** Auth0 database connection: sends the password-realm grant with this realm. */
  realm?: string;
  /** API the access token is for (default `authorizationParams.audience`). */
  audience?: string;
  /** Scopes to ask for (default `authorizationParams.scope`); `openid` is always added. */
  scope?: string;
  /** Refuses attempts before they reach the OP (see `LoginThrottle`); default: none. */
  throttle?: LoginThrottle;
}

/** Options of `auth()`. Env vars fill the five connection options when they are absent. */
export interface AuthOptions extends TransportOptions {
  issuerBaseURL?: string;
  baseURL?: string;
  clientID?: string;
  clientSecret?: string;
  /** Signs the session and transaction cookies; an array rotates secrets (first signs, all verify). */
  secret?: string | string[];
  authRequired?: boolean;
  authorizationParams?: AuthorizationParams;
  pushedAuthorizationRequests?: boolean;
  routes?: RoutesOptions;
  idpLogout?: boolean;
  /**
   * Extra parameters for the OP's end-session endpoint. Numbers and booleans
   * are sent as text; null or undefined leaves a parameter out. Default `{}`.
   */
  logoutParams?: Record<string, unknown>;
  session?: SessionOptions;
  transactionCookie?: { name?: string; sameSite?: 'Lax' | 'Strict' | 'None' };
  clientAuthMethod?: ClientAuthMethod;
  clockTolerance?: number;
  httpTimeout?: number;
  idTokenSigningAlg?: string;
  discoveryCacheMaxAge?: number;
  /** Milliseconds before an unknown `kid` may refetch the OP's JWKS again. */
  jwksCooldown?: number;
  afterCallback?: AfterCallback;
  getLoginState?: GetLoginState;
  identityClaimFilter?: string[];
  /**
   * Extra parameters for every token endpoint request. Numbers and booleans
   * are sent as text; null or undefined leaves a parameter out. Default `{}`.
   */
  tokenEndpointParams?: Record<string, unknown>;
  errorOnRequiredAuth?: boolean;
  attemptSilentLogin?: boolean;
  autoRefresh?: boolean;
  refreshLeeway?: number;
  /**
   * Milliseconds one request may spend on refreshing its tokens, however many
   * lock waits, store calls and OP calls that takes. Past it the request gets
   * its current access token when it has not expired yet, and otherwise a 503
   * `ERR_REFRESH_TIMEOUT`; a refresh already under way goes on for the
   * requests that share it. Default 10000 (twice the default `httpTimeout`).
   */
  refreshDeadline?: number;
  /**
   * How `getAccessToken({ audience })` names the API in its `refresh_token`
   * grant: `'audience'` (Auth0 Multi-Resource Refresh Token) or `'resource'`
   * (RFC 8707 resource indicators). Default `'audience'`.
   */
  resourceParameter?: 'audience' | 'resource';
  /**
   * Most APIs whose access tokens one session keeps (`getAccessToken({ audience })`);
   * past it the least recently used is dropped (and obtained again when
   * asked for). Default 10.
   */
  maxCachedApis?: number;
  refreshLock?: RefreshLock;
  revokeOnLogout?: boolean;
  /** Accept OIDC back-channel logout tokens at `routes.backchannelLogout`. Default false. */
  backchannelLogout?: boolean | BackchannelLogoutOptions;
  /**
   * Mounts `POST routes.passwordLogin` (Resource Owner Password grant, or
   * Auth0's password-realm grant), finishing an `mfa_required` answer with a
   * one-time code. Default false.
   */
  passwordLogin?: boolean | PasswordLoginOptions;
  useDPoP?: boolean | DPoPOptions;
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
}
