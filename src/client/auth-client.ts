import * as oidc from 'openid-client';
import { OidcError, type ErrorCode } from '../errors.js';
import { debug } from '../debug.js';
import type { ClientAuthMethod } from '../config/types.js';
import { DPoPKey } from '../dpop/key.js';
import { fetchProtectedResource, type ProtectedResourceInit, type ProtectedResourceToken } from '../dpop/protected-resource.js';
import { untilAborted } from './abort.js';
import { Discovery, type ServerState } from './discovery.js';
import { abortedError, toOidcError } from './errors.js';
import { checkHeaders, createFetch, isLoopbackHttp } from './http.js';
import { timed } from './timing.js';
import { validateIdToken, type IdTokenClaims, type IdTokenValidationOptions } from './id-token.js';
import { validateLogoutToken, type LogoutTokenClaims } from './logout-token.js';
import {
  cleanExtra,
  defined,
  requireString,
  type AuthClientOptions,
  type ClientOverrides,
  type CodeExchangeChecks,
  type LoginWithAuthCodeRequest,
  type LoginWithAuthCodeWithPKCERequest,
  type LoginWithClientCredentialsRequest,
  type LoginWithPasswordRequest,
  type PushedAuthorizationRequest,
  type PushedAuthorizationResponse,
  type RefreshTokenRequest,
  type RequestOptions,
  type RevokeRefreshTokenRequest,
  type SessionBoundValidation,
} from './requests.js';
import { toTokenSet, type TokenEndpointResponse, type TokenSet } from './token-set.js';

export type * from './requests.js';

const log = debug('client');

const PASSWORD_REALM_GRANT = 'http://auth0.com/oauth/grant-type/password-realm';

/** What went wrong, preferring the caller's abort over the network error it caused. */
function failure(err: unknown, what: string, signal: AbortSignal | undefined, invalidCode?: ErrorCode): OidcError {
  const answered = err instanceof OidcError || err instanceof oidc.ResponseBodyError;
  if (signal?.aborted && !answered) return abortedError(signal, what);
  return toOidcError(err, what, invalidCode);
}

/**
 * The protocol core: discovery, every grant of the Auth0 Authentication API,
 * full ID token validation, PAR, revocation and userinfo, without Express.
 *
 * @example
 * ```ts
 * const client = new AuthClient({ issuerBaseURL: 'https://tenant.auth0.com', clientID, clientSecret });
 * const tokens = await client.loginWithClientCredentials({ audience: 'https://api.example.com' });
 * ```
 */
export class AuthClient {
  readonly issuerBaseURL: string;
  readonly clientID: string;
  readonly #clientSecret: string | undefined;
  readonly #method: ClientAuthMethod;
  readonly #signingKey: CryptoKey | undefined;
  readonly #timeout: number;
  readonly #clockTolerance: number;
  readonly #alg: string;
  readonly #tokenEndpointParams: Record<string, string>;
  readonly #insecure: boolean;
  readonly #dpop: DPoPKey | undefined;
  readonly #discovery: Discovery;

  constructor(options: AuthClientOptions) {
    const issuer = new URL(options.issuerBaseURL);
    if (issuer.protocol !== 'https:' && !isLoopbackHttp(issuer)) {
      throw new OidcError('ERR_CONFIG_INVALID', 'Invalid option "issuerBaseURL": must be https (http is allowed for localhost only).', { status: 500 });
    }
    this.issuerBaseURL = options.issuerBaseURL.replace(/\/+$/, '');
    this.clientID = options.clientID;
    this.#clientSecret = options.clientSecret;
    this.#method = options.clientAuthMethod ?? (options.clientSecret ? 'client_secret_basic' : 'none');
    this.#signingKey = options.clientAssertionSigningKey;
    this.#timeout = options.httpTimeout ?? 5_000;
    this.#clockTolerance = options.clockTolerance ?? 60;
    this.#alg = options.idTokenSigningAlg ?? 'RS256';
    this.#tokenEndpointParams = cleanExtra(options.tokenEndpointParams);
    this.#insecure = isLoopbackHttp(issuer);
    this.#discovery = new Discovery({
      issuerBaseURL: this.issuerBaseURL,
      clientID: this.clientID,
      timeout: this.#timeout,
      cacheMaxAge: options.discoveryCacheMaxAge ?? 600_000,
      jwksCooldown: options.jwksCooldown ?? 30_000,
      insecure: this.#insecure,
    });
    this.#dpop = options.dpopKeyPair === undefined ? DPoPKey.fromOption(options.useDPoP) : DPoPKey.fromKeyPair(options.dpopKeyPair, 'dpopKeyPair');
  }

  /** Whether tokens are sender-constrained with DPoP. */
  get usesDPoP(): boolean {
    return this.#dpop !== undefined;
  }

  /**
   * The JWK SHA-256 thumbprint (RFC 7638) of the DPoP public key, the value
   * DPoP-bound tokens carry in `cnf.jkt`; undefined without DPoP.
   */
  async dpopThumbprint(): Promise<string | undefined> {
    return this.#dpop?.thumbprint();
  }

  /** The OP's discovered metadata (cached; a failure is not cached). */
  async serverMetadata(): Promise<oidc.ServerMetadata> {
    return (await this.#discovery.get()).metadata;
  }

  // ---- grants -------------------------------------------------------------

  /**
   * Resource Owner Password grant, or Auth0's password-realm grant when `realm` is set.
   * Only for highly trusted apps that cannot redirect. Pass `auth0-forwarded-for`
   * in `request.headers` so the OP's brute-force protection sees the user's IP.
   * Throws `MfaRequiredError` (with `mfaToken`) when the OP asks for MFA.
   *
   * @example
   * ```ts
   * const tokens = await client.loginWithPassword(
   *   { username, password, scope: 'openid profile', realm: 'Username-Password-Authentication' },
   *   {},
   *   { headers: { 'auth0-forwarded-for': req.ip } },
   * );
   * ```
   */
  async loginWithPassword(body: LoginWithPasswordRequest, validation?: IdTokenValidationOptions, request?: RequestOptions): Promise<TokenSet> {
    requireString(body.username, 'loginWithPassword: "username"');
    requireString(body.password, 'loginWithPassword: "password"');
    const grantType = body.realm === undefined ? 'password' : PASSWORD_REALM_GRANT;
    const params = defined({ username: body.username, password: body.password, scope: body.scope, audience: body.audience, realm: body.realm });
    return this.#grant(grantType, { ...cleanExtra(body.extra), ...params }, body, validation, request);
  }

  /**
   * Authorization code exchange for a confidential client.
   *
   * @example
   * ```ts
   * const tokens = await client.loginWithAuthCode({ code, redirectUri: 'https://app.example.com/callback' }, { nonce });
   * ```
   */
  async loginWithAuthCode(body: LoginWithAuthCodeRequest, validation?: IdTokenValidationOptions, request?: RequestOptions): Promise<TokenSet> {
    const params = { code: body.code, redirect_uri: body.redirectUri };
    return this.#grant('authorization_code', { ...cleanExtra(body.extra), ...params }, body, validation, request);
  }

  /**
   * Authorization code exchange with the PKCE verifier.
   *
   * @example
   * ```ts
   * const tokens = await client.loginWithAuthCodeWithPKCE({ code, codeVerifier, redirectUri: 'https://app.example.com/callback' }, { nonce });
   * ```
   */
  async loginWithAuthCodeWithPKCE(body: LoginWithAuthCodeWithPKCERequest, validation?: IdTokenValidationOptions, request?: RequestOptions): Promise<TokenSet> {
    const params = { code: body.code, code_verifier: body.codeVerifier, redirect_uri: body.redirectUri };
    return this.#grant('authorization_code', { ...cleanExtra(body.extra), ...params }, body, validation, request);
  }

  /**
   * Client Credentials grant (machine to machine) for an API `audience`,
   * optionally in an organization. Needs client authentication (a secret or a
   * private key). For a cached token, use `ClientCredentials`.
   *
   * @example
   * ```ts
   * const { accessToken } = await client.loginWithClientCredentials({ audience: 'https://api.example.com', organization: 'org_123' });
   * ```
   */
  async loginWithClientCredentials(body: LoginWithClientCredentialsRequest, validation?: IdTokenValidationOptions, request?: RequestOptions): Promise<TokenSet> {
    requireString(body.audience, 'loginWithClientCredentials: "audience"');
    if (this.#authMethod(body.clientID ?? this.clientID, this.#secretFor(body)) === 'none') {
      // The grant is the client's own identity: without client authentication there is nothing to grant.
      throw new OidcError('ERR_BAD_REQUEST', 'loginWithClientCredentials: "clientSecret" is required', { status: 400 });
    }
    const params = defined({ audience: body.audience, organization: body.organization });
    return this.#grant('client_credentials', { ...cleanExtra(body.extra), ...params }, body, validation, request);
  }

  /**
   * Any OAuth 2.0 grant; `body` may not set `grant_type` or the client's credentials.
   *
   * @example
   * ```ts
   * const tokens = await client.loginWithGrant('urn:ietf:params:oauth:grant-type:token-exchange', {
   *   subject_token: token, subject_token_type: 'urn:ietf:params:oauth:token-type:access_token', audience: 'https://api.example.com',
   * });
   * ```
   */
  async loginWithGrant(grantType: string, body: Record<string, string>, validation?: IdTokenValidationOptions, request?: RequestOptions): Promise<TokenSet> {
    requireString(grantType, 'loginWithGrant: "grantType"');
    return this.#grant(grantType, cleanExtra(body), {}, validation, request);
  }

  /**
   * Refresh grant; `scope` may ask for less than was granted.
   *
   * @example
   * ```ts
   * const fresh = await client.refreshToken({ refreshToken, scope: 'openid read:data' });
   * ```
   */
  async refreshToken(body: RefreshTokenRequest, validation?: SessionBoundValidation, request?: RequestOptions): Promise<TokenSet> {
    requireString(body.refreshToken, 'refreshToken: "refreshToken"');
    const params = defined({ refresh_token: body.refreshToken, scope: body.scope });
    return this.#grant('refresh_token', { ...cleanExtra(body.extra), ...params }, body, validation, request);
  }

  /**
   * Revokes a refresh token (RFC 7009).
   *
   * @example
   * ```ts
   * await client.revokeRefreshToken({ refreshToken });
   * ```
   */
  async revokeRefreshToken(body: RevokeRefreshTokenRequest, request?: RequestOptions): Promise<void> {
    requireString(body.refreshToken, 'revokeRefreshToken: "refreshToken"');
    const { config, server } = await this.#configuration(body, request);
    if (!server.metadata.revocation_endpoint) {
      throw new OidcError('ERR_OP_ERROR', 'revocation: the OP advertises no revocation_endpoint', { status: 500 });
    }
    try {
      await oidc.tokenRevocation(config, body.refreshToken, { ...cleanExtra(body.extra), token_type_hint: 'refresh_token' });
      log('refresh token revoked');
    } catch (err) {
      throw failure(err, 'revocation', request?.signal);
    }
  }

  /**
   * Pushed Authorization Request (RFC 9126): returns the `request_uri` for `/authorize`.
   *
   * @example
   * ```ts
   * const { requestUri } = await client.pushedAuthorization({ redirectUri, scope: 'openid', nonce, codeChallenge });
   * res.redirect(`${issuer}/authorize?client_id=${clientID}&request_uri=${encodeURIComponent(requestUri)}`);
   * ```
   */
  async pushedAuthorization(body: PushedAuthorizationRequest, request?: RequestOptions): Promise<PushedAuthorizationResponse> {
    const params = defined({
      response_type: body.responseType ?? 'code',
      redirect_uri: body.redirectUri,
      scope: body.scope,
      audience: body.audience,
      nonce: body.nonce,
      response_mode: body.responseMode,
      organization: body.organization,
      invitation: body.invitation,
      connection: body.connection,
      code_challenge: body.codeChallenge,
      code_challenge_method: body.codeChallenge === undefined ? undefined : 'S256',
    });
    return this.#push({ ...cleanExtra(body.extra), ...params }, body, request);
  }

  /** Userinfo with an access token; the answer must be about `expectedSubject`. */
  async fetchUserInfo(accessToken: string, expectedSubject: string, request?: RequestOptions): Promise<Record<string, unknown>> {
    const { config } = await this.#configuration({}, request);
    try {
      return await oidc.fetchUserInfo(config, accessToken, expectedSubject, await this.#dpopOptions(config));
    } catch (err) {
      throw failure(err, 'userinfo', request?.signal);
    }
  }

  /**
   * Calls an API (a resource server) with an access token: `Authorization:
   * DPoP` and a fresh DPoP proof for a DPoP-bound token, `Authorization:
   * Bearer` otherwise. A resource server's `use_dpop_nonce` challenge is
   * answered once. Returns the `Response` whatever its status; throws only
   * when no response came (`ERR_RESOURCE_UNREACHABLE`, `ERR_ABORTED`).
   *
   * @example
   * ```ts
   * const tokens = await client.loginWithClientCredentials({ audience: 'https://api.example.com' });
   * const res = await client.fetchProtectedResource(tokens, 'https://api.example.com/orders');
   * if (res.ok) console.log(await res.json());
   * ```
   */
  async fetchProtectedResource(accessToken: ProtectedResourceToken, url: string | URL, init?: ProtectedResourceInit): Promise<Response> {
    // Talking to an API needs nothing from discovery: a bare configuration carries the fetch settings.
    const makeConfig = (fetcher: oidc.CustomFetch) => {
      const config = new oidc.Configuration({ issuer: this.issuerBaseURL }, this.clientID);
      config[oidc.customFetch] = fetcher;
      return config;
    };
    return fetchProtectedResource(makeConfig, this.#dpop, accessToken, url, init);
  }

  // ---- used by the Express layer -----------------------------------------

  /** Internal: the URL to send the browser to, through PAR when `pushed` is true. */
  async authorizationUrl(params: Record<string, string>, pushed: boolean, request?: RequestOptions): Promise<string> {
    const { config, server } = await this.#configuration({}, request);
    // Binds the authorization code to the DPoP key, so only this key can redeem it.
    if (this.#dpop !== undefined) params = { ...params, dpop_jkt: await this.#dpop.thumbprint() };
    if (!pushed) return oidc.buildAuthorizationUrl(config, params).href;
    if (!server.metadata.pushed_authorization_request_endpoint) {
      throw new OidcError('ERR_PAR_UNSUPPORTED', 'pushedAuthorizationRequests is on, but the OP advertises no pushed_authorization_request_endpoint', { status: 500 });
    }
    const { requestUri } = await this.#push(params, {}, request);
    const url = new URL(server.metadata.authorization_endpoint as string);
    url.searchParams.set('client_id', this.clientID);
    url.searchParams.set('request_uri', requestUri);
    return url.href;
  }

  /** Internal: exchanges the code from a callback whose parameters passed the state and issuer checks. */
  async exchangeCode(callbackParams: URLSearchParams, checks: CodeExchangeChecks, request?: RequestOptions): Promise<TokenSet> {
    const { config, server } = await this.#configuration({}, request);
    const currentUrl = new URL(checks.redirectUri);
    for (const [key, value] of callbackParams) currentUrl.searchParams.append(key, value);
    let response: TokenEndpointResponse;
    try {
      response = await oidc.authorizationCodeGrant(
        config,
        currentUrl,
        {
          pkceCodeVerifier: checks.codeVerifier,
          expectedState: checks.state,
          expectedNonce: checks.nonce,
          idTokenExpected: true,
          ...(checks.maxAge === undefined ? {} : { maxAge: checks.maxAge }),
        },
        { ...this.#tokenEndpointParams },
        await this.#dpopOptions(config),
      );
    } catch (err) {
      throw failure(err, 'code exchange', request?.signal, idTokenCheckFailed(err) ? 'ERR_ID_TOKEN_INVALID' : 'ERR_INVALID_RESPONSE');
    }
    const validation: IdTokenValidationOptions = { nonce: checks.nonce };
    if (checks.maxAge !== undefined) validation.maxAge = checks.maxAge;
    if (checks.organization !== undefined) validation.organization = checks.organization;
    return this.#finish(response, server, this.clientID, validation);
  }

  /** Internal: the OP logout URL, or Auth0's `/v2/logout` when the OP has no end-session endpoint. */
  async endSessionUrl(params: { idTokenHint?: string; postLogoutRedirectUri: string; extra?: Record<string, string> }): Promise<string> {
    const { config, server } = await this.#configuration({});
    if (server.metadata.end_session_endpoint) {
      return oidc.buildEndSessionUrl(config, {
        ...params.extra,
        post_logout_redirect_uri: params.postLogoutRedirectUri,
        ...(params.idTokenHint === undefined ? {} : { id_token_hint: params.idTokenHint }),
      }).href;
    }
    if (/\.auth0(app)?\.com$/.test(new URL(this.issuerBaseURL).hostname)) {
      const url = new URL('/v2/logout', this.issuerBaseURL);
      for (const [key, value] of Object.entries(params.extra ?? {})) url.searchParams.set(key, value);
      url.searchParams.set('client_id', this.clientID);
      url.searchParams.set('returnTo', params.postLogoutRedirectUri);
      return url.href;
    }
    throw new OidcError('ERR_LOGOUT_UNSUPPORTED', 'idpLogout is on, but the OP advertises no end_session_endpoint', { status: 500 });
  }

  /** Internal: validates an ID token with this client's settings. */
  async validateIdToken(idToken: string, validation: SessionBoundValidation = {}): Promise<IdTokenClaims> {
    const server = await this.#discovery.get();
    return validateIdToken(idToken, server.keys, this.#idTokenSettings(this.clientID, server), {
      ...validation,
      ...(validation.expectedSubject === undefined ? {} : { sub: validation.expectedSubject }),
    });
  }

  /** Internal: validates a back-channel logout token against the same cached keys and settings as ID tokens. */
  async validateLogoutToken(logoutToken: string): Promise<LogoutTokenClaims> {
    const server = await this.#discovery.get();
    return validateLogoutToken(logoutToken, server.keys, this.#idTokenSettings(this.clientID, server));
  }

  // ---- internals -----------------------------------------------------------

  async #grant(
    grantType: string,
    params: Record<string, string>,
    client: ClientOverrides,
    validation: SessionBoundValidation | undefined,
    request: RequestOptions | undefined,
  ): Promise<TokenSet> {
    const { config, server } = await this.#configuration(client, request);
    let response: TokenEndpointResponse;
    try {
      response = await oidc.genericGrantRequest(config, grantType, { ...this.#tokenEndpointParams, ...params }, await this.#dpopOptions(config));
    } catch (err) {
      throw failure(err, `${grantName(grantType)} grant`, request?.signal, idTokenCheckFailed(err) ? 'ERR_ID_TOKEN_INVALID' : 'ERR_INVALID_RESPONSE');
    }
    log('%s grant succeeded', grantName(grantType));
    // A refreshed ID token may repeat the nonce of the login it continues (OIDC Core 12.2).
    const checks = grantType === 'refresh_token' ? { ...validation, refreshed: true } : validation;
    return this.#finish(response, server, client.clientID ?? this.clientID, checks);
  }

  async #finish(
    response: TokenEndpointResponse,
    server: ServerState,
    clientID: string,
    validation: SessionBoundValidation & { refreshed?: boolean } = {},
  ): Promise<TokenSet> {
    if (typeof response.access_token !== 'string' || typeof response.token_type !== 'string') {
      throw new OidcError('ERR_INVALID_RESPONSE', 'token endpoint: the response has no access_token or token_type', { status: 502 });
    }
    let claims: IdTokenClaims | undefined;
    if (typeof response.id_token === 'string') {
      claims = await validateIdToken(response.id_token, server.keys, this.#idTokenSettings(clientID, server), {
        ...validation,
        ...(validation.expectedSubject === undefined ? {} : { sub: validation.expectedSubject }),
      });
    } else if (validation.nonce !== undefined) {
      throw new OidcError('ERR_ID_TOKEN_INVALID', 'ID token invalid: the token endpoint returned none', { status: 400 });
    }
    return toTokenSet(response, claims);
  }

  async #push(params: Record<string, string>, client: ClientOverrides, request?: RequestOptions): Promise<PushedAuthorizationResponse> {
    let expiresIn = 0;
    const { config, server } = await this.#configuration(client, request, async (url, response) => {
      // openid-client returns only the URL; read expires_in from the PAR response itself.
      if (url === server.metadata.pushed_authorization_request_endpoint && response.ok) {
        const body = (await response.clone().json()) as { expires_in?: unknown };
        if (typeof body.expires_in === 'number') expiresIn = body.expires_in;
      }
    });
    if (!server.metadata.pushed_authorization_request_endpoint) {
      throw new OidcError('ERR_PAR_UNSUPPORTED', 'the OP advertises no pushed_authorization_request_endpoint', { status: 500 });
    }
    let url: URL;
    try {
      url = await oidc.buildAuthorizationUrlWithPAR(config, params, await this.#dpopOptions(config));
    } catch (err) {
      throw failure(err, 'pushed authorization request', request?.signal);
    }
    const requestUri = url.searchParams.get('request_uri');
    if (!requestUri) throw new OidcError('ERR_INVALID_RESPONSE', 'pushed authorization request: no request_uri in the response', { status: 502 });
    log('pushed authorization request accepted');
    return { requestUri, expiresIn };
  }

  #idTokenSettings(clientID: string, server: ServerState) {
    return { issuer: server.metadata.issuer, clientID, alg: this.#alg, clockTolerance: this.#clockTolerance };
  }

  async #dpopOptions(config: oidc.Configuration): Promise<oidc.DPoPOptions | undefined> {
    return this.#dpop === undefined ? undefined : { DPoP: await this.#dpop.handle(config) };
  }

  /** The configured method for the configured client; another client ID posts its secret, if it has one. */
  #authMethod(clientID: string, secret: string | undefined): ClientAuthMethod {
    if (clientID === this.clientID) return this.#method;
    // Another client with a secret posts it in the body, as Auth0 registers new applications to.
    return secret ? 'client_secret_post' : 'none';
  }

  /** The secret for a call: the caller's, else the configured one when the client is the configured one. */
  #secretFor(client: ClientOverrides): string | undefined {
    return client.clientSecret ?? ((client.clientID ?? this.clientID) === this.clientID ? this.#clientSecret : undefined);
  }

  #clientAuth(clientID: string, secret: string | undefined): oidc.ClientAuth {
    switch (this.#authMethod(clientID, secret)) {
      case 'client_secret_basic':
        return oidc.ClientSecretBasic(secret);
      case 'client_secret_post':
        return oidc.ClientSecretPost(secret);
      case 'client_secret_jwt':
        return oidc.ClientSecretJwt(secret);
      case 'private_key_jwt':
        return oidc.PrivateKeyJwt(this.#signingKey as CryptoKey);
      default:
        return oidc.None();
    }
  }

  async #configuration(
    client: ClientOverrides,
    request?: RequestOptions,
    onResponse?: (url: string, response: Response) => Promise<void>,
  ): Promise<{ config: oidc.Configuration; server: ServerState }> {
    checkHeaders(request?.headers);
    // Discovery is shared by every caller: an abort stops this caller waiting, not the discovery.
    const server = await untilAborted(this.#discovery.get(), request?.signal, 'request');
    const clientID = client.clientID ?? this.clientID;
    const secret = this.#secretFor(client);
    const config = new oidc.Configuration(
      server.metadata,
      clientID,
      { id_token_signed_response_alg: this.#alg, [oidc.clockTolerance]: this.#clockTolerance },
      this.#clientAuth(clientID, secret),
    );
    config.timeout = this.#timeout / 1000;
    if (this.#insecure) oidc.allowInsecureRequests(config);
    config[oidc.customFetch] = timed(createFetch(this.#timeout, request, onResponse), server.metadata);
    return { config, server };
  }

}

/** Names a grant for messages and logs; Auth0's long grant URIs get their short name. */
function grantName(grantType: string): string {
  return grantType === PASSWORD_REALM_GRANT ? 'password-realm' : grantType;
}

/**
 * openid-client's own ID token checks (nonce, alg, sub, auth_time...) failed. It often wraps the
 * failed check in a generic "invalid response encountered", so the causes are read too.
 */
function idTokenCheckFailed(err: unknown): boolean {
  let e = err as { message?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; e !== undefined && e !== null && depth < 3; depth += 1) {
    if (typeof e.message === 'string' && /ID Token|JWT|"id_token"/.test(e.message)) return true;
    e = e.cause as typeof e;
  }
  return false;
}
