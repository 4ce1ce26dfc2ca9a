import type { Request } from 'express';
import { decodeJwt } from 'jose';
import type { AuthClient } from '../client/auth-client.js';
import { OidcError } from '../errors.js';
import type { RefreshOptions } from '../refresh/index.js';
import { RUNTIME, type Runtime } from '../runtime.js';
import { AccessToken } from './access-token.js';

/** Options of `req.oidc.getAccessToken()`. */
export interface GetAccessTokenOptions {
  /** A reduced scope for this token (handed out, not stored as the session's token). */
  scope?: string;
  /** Extra token endpoint parameters if a refresh happens. */
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

  /** Internal: the `auth()` instance this request went through. */
  readonly [RUNTIME]: Runtime;

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
      this.#claims = decodeJwt(idToken) as Record<string, unknown>;
      this.#claimsOf = idToken;
    }
    return this.#claims;
  }

  /** The user's identity claims: the ID token's claims without protocol claims. */
  get user(): Record<string, unknown> | undefined {
    const claims = this.idTokenClaims;
    if (claims === undefined) return undefined;
    const user: Record<string, unknown> = {};
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
   * many requests ask at once).
   *
   * @example
   * ```ts
   * const { access_token, token_type } = await req.oidc.getAccessToken();
   * await fetch(api, { headers: { authorization: `${token_type} ${access_token}` } });
   * ```
   */
  getAccessToken(options: GetAccessTokenOptions = {}): Promise<AccessToken> {
    return this.#fresh(options);
  }

  /** Claims from the OP's userinfo endpoint, fetched with a fresh access token. */
  async fetchUserInfo(): Promise<Record<string, unknown>> {
    const claims = this.idTokenClaims;
    if (claims === undefined) throw new OidcError('ERR_NOT_AUTHENTICATED', 'the request has no signed-in session', { status: 401 });
    const token = await this.getAccessToken();
    return this.#rt.client.fetchUserInfo(token.access_token, claims.sub as string);
  }

  async #fresh(options: RefreshOptions): Promise<AccessToken> {
    const data = await this.#rt.refresher.fresh(this.#req, options);
    return new AccessToken(data, (more) => this.#fresh(more ?? {}));
  }
}
