import type { Request } from 'express';
import { decodeJwt } from 'jose';
import type { AuthClient } from '../client/auth-client.js';
import type { ClientCredentialsRequest } from '../client/client-credentials.js';
import type { TokenSet } from '../client/token-set.js';
import type { ProtectedResourceInit } from '../dpop/protected-resource.js';
import { OidcError } from '../errors.js';
import type { RefreshOptions } from '../refresh/index.js';
import { RUNTIME, type Runtime } from '../runtime.js';
import { AccessToken } from './access-token.js';
import type { UserClaims } from './claims.js';

/** Options of `req.oidc.getAccessToken()`. */
export interface GetAccessTokenOptions {
  /**
   * A reduced scope: the token is obtained with a refresh for this call and
   * not stored as the session's token (the session keeps its own).
   */
  scope?: string;
  /**
   * Extra token endpoint parameters, sent if this call redeems the refresh
   * token (concurrent calls of one session share one refresh: the first
   * caller's parameters are the ones sent).
   */
  tokenEndpointParams?: Record<string, string>;
}

/**
 * `req.oidc`: who is signed in and their tokens. Built per request and cheap:
 * claims are decoded only when asked for.
 */
export class RequestContext {
  readonly #req: Request;
  readonly #rt: Runtime;
  #claims: Record<string, unknown> | undefined;
  #claimsOf: string | undefined;

  /**
   * The `auth()` instance this request went through.
   * @internal
   */
  readonly [RUNTIME]: Runtime;

  /** @internal `auth()` builds one per request. */
  constructor(req: Request, rt: Runtime) {
    this.#req = req;
    this.#rt = rt;
    this[RUNTIME] = rt;
  }

  /** The `AuthClient` of this `auth()`: every grant, with the same config and discovery cache. */
  get client(): AuthClient {
    return this.#rt.client;
  }

  isAuthenticated(): boolean {
    return typeof this.#req.session?.oidc?.id_token === 'string';
  }

  get idToken(): string | undefined {
    return this.#req.session?.oidc?.id_token;
  }

  /** The validated ID token's claims (it was validated when stored). */
  get idTokenClaims(): Record<string, unknown> | undefined {
    const idToken = this.idToken;
    if (idToken === undefined) return undefined;
    if (this.#claimsOf !== idToken) {
      this.#claims = decodeClaims(idToken);
      this.#claimsOf = idToken;
    }
    return this.#claims;
  }

  /**
   * The user's identity claims: the ID token's claims without the protocol
   * claims of `identityClaimFilter`; undefined when nobody is signed in (so
   * `req.oidc.user?.name`, also behind `requiresAuth()`, where TypeScript
   * cannot know that someone is).
   */
  get user(): UserClaims | undefined {
    const claims = this.idTokenClaims;
    if (claims === undefined) return undefined;
    const user = {} as UserClaims;
    const filter = this.#rt.config.identityClaimFilter;
    for (const key in claims) if (!filter.includes(key)) user[key] = claims[key];
    return user;
  }

  get accessToken(): AccessToken | undefined {
    const data = this.#req.session?.oidc;
    if (data?.access_token === undefined) return undefined;
    return new AccessToken(
      { access_token: data.access_token, token_type: data.token_type ?? 'Bearer', ...(data.expires_at === undefined ? {} : { expires_at: data.expires_at }), ...(data.scope === undefined ? {} : { scope: data.scope }) },
      (options) => this.#fresh(options ?? {}),
    );
  }

  get refreshToken(): string | undefined {
    return this.#req.session?.oidc?.refresh_token;
  }

  /**
   * An access token valid for at least `refreshLeeway` seconds, refreshed
   * from the session's refresh token when needed (once per session, however
   * many requests ask at once). With `scope`, a token with that (reduced)
   * scope is obtained for this call only. Throws an `OidcError`:
   * `ERR_REFRESH_FAILED` (401, the OP's `error` attached) when the OP
   * rejected the refresh token and the session was signed out;
   * `ERR_OP_UNREACHABLE` and other 5xx codes when the OP could not refresh
   * now (the tokens are kept, the next call tries again);
   * `ERR_REFRESH_UNAVAILABLE` when the token expired and there is no
   * refresh token; `ERR_NOT_AUTHENTICATED` without a signed-in session.
   *
   * @example
   * ```ts
   * const { access_token, token_type } = await req.oidc.getAccessToken();
   * await fetch(api, { headers: { authorization: `${token_type} ${access_token}` } });
   *
   * const readOnly = await req.oidc.getAccessToken({ scope: 'read:reports' });
   * ```
   */
  getAccessToken(options: GetAccessTokenOptions = {}): Promise<AccessToken> {
    try {
      return this.#fresh(accessTokenOptions(options));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * A machine-to-machine (client credentials) token of the app itself, not of
   * the user: cached per `{ audience, organization }` and shared by every
   * request of this `auth()`.
   *
   * @example
   * ```ts
   * const { accessToken, tokenType } = await req.oidc.clientCredentials({ audience: 'https://api.example.com' });
   * ```
   */
  clientCredentials(request: ClientCredentialsRequest, options?: { signal?: AbortSignal }): Promise<TokenSet> {
    return this.#rt.clientCredentials.get(request, options);
  }

  /** Claims from the OP's userinfo endpoint, fetched with a fresh access token. */
  async fetchUserInfo(): Promise<Record<string, unknown>> {
    const claims = this.idTokenClaims;
    if (claims === undefined) throw new OidcError('ERR_NOT_AUTHENTICATED', 'the request has no signed-in session', { status: 401 });
    const token = await this.getAccessToken();
    return this.#rt.client.fetchUserInfo(token.access_token, claims.sub as string);
  }

  /**
   * Calls an API on behalf of the signed-in user with a fresh access token
   * (the same one `getAccessToken()` returns): with a DPoP proof when the
   * token is DPoP-bound, as a Bearer token otherwise. A `use_dpop_nonce`
   * challenge from the API is answered once. Resolves with the API's
   * `Response` whatever its status.
   *
   * @example
   * ```ts
   * const api = await req.oidc.fetch('https://api.example.com/orders', {
   *   method: 'POST',
   *   headers: { 'content-type': 'application/json' },
   *   body: JSON.stringify(order),
   * });
   * if (!api.ok) return next(new Error(`orders API answered ${api.status}`));
   * res.json(await api.json());
   * ```
   */
  async fetch(url: string | URL, init?: ProtectedResourceInit): Promise<Response> {
    const token = await this.getAccessToken();
    return this.#rt.client.fetchProtectedResource(token, url, init);
  }

  async #fresh(options: RefreshOptions): Promise<AccessToken> {
    const data = await this.#rt.refresher.fresh(this.#req, options);
    // Refreshing a reduced-scope token asks for the same scope again.
    const scope = options.scope === undefined ? {} : { scope: options.scope };
    return new AccessToken(data, (more) => this.#fresh({ ...scope, ...more }));
  }
}

/** The options of `getAccessToken()`, checked (they come from app code, possibly untyped). */
function accessTokenOptions(options: GetAccessTokenOptions): RefreshOptions {
  const out: RefreshOptions = {};
  if (options === null || typeof options !== 'object') return out;
  if (options.scope !== undefined) {
    if (typeof options.scope !== 'string' || options.scope.trim() === '') {
      throw new OidcError('ERR_CONFIG_INVALID', 'getAccessToken: "scope" must be a non-empty string', { status: 500 });
    }
    out.scope = options.scope;
  }
  if (options.tokenEndpointParams !== undefined) {
    const params = options.tokenEndpointParams as unknown;
    if (params === null || typeof params !== 'object' || Object.values(params).some((v) => typeof v !== 'string')) {
      throw new OidcError('ERR_CONFIG_INVALID', 'getAccessToken: "tokenEndpointParams" must be an object of string values', { status: 500 });
    }
    out.tokenEndpointParams = { ...(params as Record<string, string>) };
  }
  return out;
}

const BASE64URL = /^[\w-]+$/;

/**
 * The claims of a stored ID token (validated when it was stored). Node's
 * native base64url decoder is several times faster than jose's portable one,
 * and this runs on every request that reads `req.oidc.user`; anything
 * unusual goes through `decodeJwt`, which throws its usual error.
 */
function decodeClaims(idToken: string): Record<string, unknown> {
  const parts = idToken.split('.');
  const payload = parts[1];
  if (parts.length === 3 && payload !== undefined && BASE64URL.test(payload)) {
    try {
      const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      if (typeof claims === 'object' && claims !== null && !Array.isArray(claims)) return claims as Record<string, unknown>;
    } catch {
      // not JSON: decodeJwt reports it
    }
  }
  return decodeJwt(idToken) as Record<string, unknown>;
}
