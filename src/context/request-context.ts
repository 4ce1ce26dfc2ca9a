import type { Request } from 'express';
import { decodeJwt } from 'jose';
import type { AuthClient } from '../client/auth-client.js';
import type { ClientCredentialsRequest } from '../client/client-credentials.js';
import type { TokenSet } from '../client/token-set.js';
import type { ProtectedResourceInit } from '../dpop/protected-resource.js';
import { nonEmptyString, paramStrings } from '../config/params.js';
import { OidcError } from '../errors.js';
import type { RefreshOptions } from '../refresh/index.js';
import { RUNTIME, type Runtime } from '../runtime.js';
import { AccessToken } from './access-token.js';
import { accessTokenForConnection, type AccessTokenForConnectionOptions, type ConnectionAccessToken } from './connection-tokens.js';
import {
  buildSessionTransferRedirect,
  customTokenExchange,
  requestSessionTransferToken,
  type CustomTokenExchangeOptions,
  type ExchangeContext,
  type SessionTransferRedirectOptions,
  type SessionTransferTokenOptions,
  type SessionTransferTokenResult,
} from './token-exchange.js';
import type { TokenExchangeResult } from '../client/token-exchange/index.js';
import type { IdTokenClaims, UserClaims } from './claims.js';

/** Options of `req.oidc.getAccessToken()`. */
export interface GetAccessTokenOptions {
  /**
   * A token for this API (an audience, or an RFC 8707 resource indicator;
   * see `resourceParameter`) instead of the login's: kept in the session per
   * audience and `scope`, and obtained from the session's refresh token when
   * missing or due (once per session and API, however many requests ask).
   */
  audience?: string;
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
  tokenEndpointParams?: Record<string, unknown>;
}

/**
 * `req.oidc`: who is signed in and their tokens. Built per request and cheap:
 * claims are decoded only when asked for.
 */
export class RequestContext {
  readonly #req: Request;
  readonly #rt: Runtime;
  #claims: IdTokenClaims | undefined;
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
  get idTokenClaims(): IdTokenClaims | undefined {
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
   * scope is obtained for this call only. With `audience` (and optionally
   * `scope`), a token for that API, cached in the session. Throws an `OidcError`:
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
   * const orders = await req.oidc.getAccessToken({ audience: 'https://orders.example.com', scope: 'read:orders' });
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

  /**
   * RFC 8693 token exchange (Auth0 Custom Token Exchange) with the session's
   * (fresh) access token as the subject token unless `subjectToken` is given;
   * `audience` and `scope` default to those of `authorizationParams`. See
   * `AuthClient.customTokenExchange()` for the fields and errors.
   *
   * @example
   * ```ts
   * const { accessToken, issuedTokenType } = await req.oidc.customTokenExchange({ audience: 'https://billing.example.com' });
   * ```
   */
  customTokenExchange(options?: CustomTokenExchangeOptions): Promise<TokenExchangeResult> {
    return customTokenExchange(this.#exchangeContext(), options);
  }

  /**
   * Auth0 Token Vault: the access token of the user's account at a connected
   * provider, exchanged for the session's refresh token and cached in the
   * session per connection and `loginHint` until `refreshLeeway` before it
   * expires. Concurrent calls of a session share one exchange. A refusal
   * (`ERR_CONNECTION_TOKEN_FAILED`) leaves the user signed in;
   * `ERR_REFRESH_UNAVAILABLE` when the session has no refresh token.
   *
   * @example
   * ```ts
   * const { token } = await req.oidc.getAccessTokenForConnection({ connection: 'google-oauth2' });
   * await fetch('https://www.googleapis.com/calendar/v3/users/me/calendarList', { headers: { authorization: `Bearer ${token}` } });
   * ```
   */
  getAccessTokenForConnection(options: AccessTokenForConnectionOptions): Promise<ConnectionAccessToken> {
    return accessTokenForConnection(this.#req, this.#rt, options);
  }

  /**
   * Auth0 session transfer: a single-use, short-lived session transfer token
   * for the user `subjectToken` stands for, with the session's ID token as
   * the actor (refreshed first when it expired) unless `actorToken` is given.
   * Hand the result to `buildSessionTransferRedirect()`; never store it.
   * Throws `ERR_ACTOR_UNAVAILABLE` (401) without an actor,
   * `ERR_SESSION_TRANSFER_FAILED` when the OP refuses or issues another token type.
   *
   * @example
   * ```ts
   * const result = await req.oidc.requestSessionTransferToken({ subjectToken: customerToken, subjectTokenType: 'urn:acme:customer' });
   * res.redirect(req.oidc.buildSessionTransferRedirect('https://app.example.com/login', result));
   * ```
   */
  requestSessionTransferToken(options: SessionTransferTokenOptions): Promise<SessionTransferTokenResult> {
    return requestSessionTransferToken(this.#exchangeContext(), options);
  }

  /**
   * The URL handing a session transfer token to the target app's login
   * route: `targetLoginUrl?session_transfer_token=...[&organization=...]`.
   * `targetLoginUrl` must be your own trusted value, https (http on
   * localhost only), never taken from the request.
   */
  buildSessionTransferRedirect(targetLoginUrl: string, result: SessionTransferTokenResult, options?: SessionTransferRedirectOptions): string {
    return buildSessionTransferRedirect(targetLoginUrl, result, options);
  }

  #exchangeContext(): ExchangeContext {
    return {
      req: this.#req,
      rt: this.#rt,
      accessToken: async () => (await this.getAccessToken()).access_token,
      refresh: async () => {
        await this.#fresh({ force: true });
      },
    };
  }

  async #fresh(options: RefreshOptions): Promise<AccessToken> {
    const data = await this.#rt.refresher.fresh(this.#req, options);
    // Refreshing a reduced-scope or another API's token asks for the same again.
    const same = { ...(options.scope === undefined ? {} : { scope: options.scope }), ...(options.audience === undefined ? {} : { audience: options.audience }) };
    return new AccessToken(data, (more) => this.#fresh({ ...same, ...more }));
  }
}

/** The options of `getAccessToken()`, checked (they come from app code, possibly untyped). */
function accessTokenOptions(options: GetAccessTokenOptions): RefreshOptions {
  const out: RefreshOptions = {};
  if (options === null || typeof options !== 'object') return out;
  if (options.audience !== undefined) out.audience = nonEmptyString(options.audience, 'getAccessToken: "audience"');
  if (options.scope !== undefined) out.scope = nonEmptyString(options.scope, 'getAccessToken: "scope"');
  if (options.tokenEndpointParams !== undefined) {
    out.tokenEndpointParams = paramStrings(options.tokenEndpointParams, 'getAccessToken: "tokenEndpointParams"');
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
function decodeClaims(idToken: string): IdTokenClaims {
  const parts = idToken.split('.');
  const payload = parts[1];
  if (parts.length === 3 && payload !== undefined && BASE64URL.test(payload)) {
    try {
      const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      if (typeof claims === 'object' && claims !== null && !Array.isArray(claims)) return claims as IdTokenClaims;
    } catch {
      // not JSON: decodeJwt reports it
    }
  }
  return decodeJwt(idToken) as IdTokenClaims;
}
