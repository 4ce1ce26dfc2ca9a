import type { Request, Response } from 'express';
import type { Store } from 'express-session';
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
  | 'none';

export interface SessionCookieOptions {
  domain?: string;
  path?: string;
  /** Defaults to true when `baseURL` is https. */
  secure?: boolean;
  sameSite?: 'Lax' | 'Strict' | 'None';
  /** A browser-session cookie (no Max-Age); the server-side lifetimes still apply. */
  transient?: boolean;
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
  callback?: string;
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
export interface AuthOptions {
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
  logoutParams?: Record<string, string>;
  session?: SessionOptions;
  transactionCookie?: { name?: string; sameSite?: 'Lax' | 'Strict' | 'None' };
  clientAuthMethod?: ClientAuthMethod;
  /** Private key for `private_key_jwt`. */
  clientAssertionSigningKey?: CryptoKey;
  clockTolerance?: number;
  httpTimeout?: number;
  idTokenSigningAlg?: string;
  discoveryCacheMaxAge?: number;
  /** Milliseconds before an unknown `kid` may refetch the OP's JWKS again. */
  jwksCooldown?: number;
  afterCallback?: AfterCallback;
  getLoginState?: GetLoginState;
  identityClaimFilter?: string[];
  tokenEndpointParams?: Record<string, string>;
  errorOnRequiredAuth?: boolean;
  attemptSilentLogin?: boolean;
  autoRefresh?: boolean;
  refreshLeeway?: number;
  refreshLock?: RefreshLock;
  revokeOnLogout?: boolean;
  backchannelLogout?: boolean | { index?: LogoutIndex };
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
  routes: Readonly<Required<Omit<RoutesOptions, 'login' | 'logout'>> & { login: string | false; logout: string | false }>;
  idpLogout: boolean;
  logoutParams: Readonly<Record<string, string>>;
  session: Readonly<{
    store: Store | undefined;
    name: string;
    rolling: boolean;
    rollingDuration: number;
    absoluteDuration: number | false;
    storeTimeout: number;
    cookie: Readonly<{ domain: string | undefined; path: string; secure: boolean; sameSite: 'Lax' | 'Strict' | 'None'; transient: boolean }>;
  }>;
  transactionCookie: Readonly<{ name: string; sameSite: 'Lax' | 'Strict' | 'None' }>;
  clientAuthMethod: ClientAuthMethod;
  clientAssertionSigningKey: CryptoKey | undefined;
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
  refreshLock: RefreshLock | undefined;
  revokeOnLogout: boolean;
  backchannelLogout: false | { index: LogoutIndex | undefined };
  passwordLogin: false | { realm: string | undefined; audience: string | undefined; scope: string | undefined; throttle: LoginThrottle | undefined };
  useDPoP: false | { keyPair: CryptoKeyPair | undefined; alg: NonNullable<DPoPOptions['alg']> };
}
