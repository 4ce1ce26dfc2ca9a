import * as oidc from 'openid-client';
import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import { OidcError } from '../errors.js';
import { debug } from '../debug.js';
import type { ClientAuthMethod } from '../config/types.js';
import { toOidcError } from './errors.js';
import { validateIdToken, type IdTokenClaims, type IdTokenValidationOptions } from './id-token.js';
import { toTokenSet, type TokenEndpointResponse, type TokenSet } from './token-set.js';

const log = debug('client');

/** Connection settings of an `AuthClient`; `auth()` builds one from its own config. */
export interface AuthClientOptions {
  issuerBaseURL: string;
  clientID: string;
  clientSecret?: string;
  /** Default: `client_secret_basic` with a secret, else `none`. */
  clientAuthMethod?: ClientAuthMethod;
  /** Private key for `private_key_jwt`. */
  clientAssertionSigningKey?: CryptoKey;
  /** Milliseconds any call to the OP may take (default 5000). */
  httpTimeout?: number;
  /** Seconds of clock skew tolerated in ID token checks (default 60). */
  clockTolerance?: number;
  /** The only `alg` accepted for ID tokens (default RS256). */
  idTokenSigningAlg?: string;
  /** Milliseconds discovery and the JWKS stay cached (default 10 minutes). Failures are never cached. */
  discoveryCacheMaxAge?: number;
  /** Milliseconds before an unknown `kid` may refetch the JWKS again (default 30 s). */
  jwksCooldown?: number;
  /** Extra parameters sent with every token endpoint request. */
  tokenEndpointParams?: Record<string, string>;
  /** Sender-constrain tokens with this DPoP key pair (RFC 9449). */
  dpopKeyPair?: CryptoKeyPair;
}

/** Per-call options: extra headers (e.g. `auth0-forwarded-for`) and an abort signal. */
export interface RequestOptions {
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** Fields every grant request may carry. */
export interface ClientOverrides {
  /** Client ID (defaults to the configured one). */
  clientID?: string;
  /** Client secret (defaults to the configured one for the configured client). */
  clientSecret?: string;
  /** Extra body parameters; they never override what the method sets. */
  extra?: Record<string, string>;
}

export interface LoginWithPasswordRequest extends ClientOverrides {
  username: string;
  password: string;
  scope?: string;
  audience?: string;
  /** Sends Auth0's password-realm grant with this realm (a connection). */
  realm?: string;
}

export interface LoginWithAuthCodeRequest extends ClientOverrides {
  code: string;
  redirectUri: string;
}

export interface LoginWithAuthCodeWithPKCERequest extends Omit<ClientOverrides, 'clientSecret'> {
  code: string;
  codeVerifier: string;
  redirectUri: string;
}

export interface LoginWithClientCredentialsRequest extends ClientOverrides {
  audience: string;
  organization?: string;
}

export interface RefreshTokenRequest extends ClientOverrides {
  refreshToken: string;
  /** May reduce the scope of the new access token. */
  scope?: string;
}

export interface RevokeRefreshTokenRequest extends ClientOverrides {
  refreshToken: string;
}

export interface PushedAuthorizationRequest extends ClientOverrides {
  responseType?: string;
  redirectUri: string;
  scope?: string;
  audience?: string;
  nonce?: string;
  responseMode?: string;
  organization?: string;
  invitation?: string;
  connection?: string;
  /** S256 code challenge of the PKCE verifier. */
  codeChallenge?: string;
}

export interface PushedAuthorizationResponse {
  requestUri: string;
  expiresIn: number;
}

/** Internal: ID token checks bound to an existing session. */
export interface SessionBoundValidation extends IdTokenValidationOptions {
  /** The refreshed ID token must be about the same user. */
  expectedSubject?: string;
}

/** The state `/login` keeps for the code exchange. */
export interface CodeExchangeChecks {
  redirectUri: string;
  state: string;
  codeVerifier: string;
  nonce: string;
  maxAge?: number;
  organization?: string;
}

interface ServerState {
  metadata: oidc.ServerMetadata;
  keys: JWTVerifyGetKey;
  jwksUri: string;
}

/** Body fields no caller may set through `extra`: they carry the client's identity and the grant. */
const RESERVED_BODY_FIELDS = new Set(['grant_type', 'client_id', 'client_secret', 'client_assertion', 'client_assertion_type']);
/** Headers the protocol sets itself. */
const RESERVED_HEADERS = new Set(['authorization', 'content-type', 'dpop', 'content-length', 'host']);

const PASSWORD_REALM_GRANT = 'http://auth0.com/oauth/grant-type/password-realm';

function cleanExtra(extra: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(extra ?? {})) {
    if (!RESERVED_BODY_FIELDS.has(key) && typeof value === 'string') out[key] = value;
  }
  return out;
}

function defined(params: Record<string, string | number | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(params)) if (value !== undefined) out[key] = String(value);
  return out;
}

function isLoopbackHttp(url: URL): boolean {
  return url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
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
  readonly #cacheMaxAge: number;
  readonly #jwksCooldown: number;
  readonly #tokenEndpointParams: Record<string, string>;
  readonly #insecure: boolean;
  #dpopKeyPair: CryptoKeyPair | undefined;
  #server: Promise<ServerState> | undefined;
  #serverFresh = 0;
  #keys: { uri: string; keys: JWTVerifyGetKey } | undefined;

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
    this.#cacheMaxAge = options.discoveryCacheMaxAge ?? 600_000;
    this.#jwksCooldown = options.jwksCooldown ?? 30_000;
    this.#tokenEndpointParams = { ...options.tokenEndpointParams };
    this.#insecure = isLoopbackHttp(issuer);
    this.#dpopKeyPair = options.dpopKeyPair;
  }

  /** The DPoP key pair in use, if any. Its private key never leaves this object except to sign proofs. */
  get dpopKeyPair(): CryptoKeyPair | undefined {
    return this.#dpopKeyPair;
  }

  /** Internal: `auth()` sets a key generated at start-up. */
  setDPoPKeyPair(keyPair: CryptoKeyPair): void {
    this.#dpopKeyPair = keyPair;
  }

  /** The OP's discovered metadata (cached; a failure is not cached). */
  async serverMetadata(): Promise<oidc.ServerMetadata> {
    return (await this.#discover()).metadata;
  }

  // ---- grants -------------------------------------------------------------

  /**
   * Resource Owner Password grant, or Auth0's password-realm grant when `realm` is set.
   * Only for highly trusted apps that cannot redirect. Pass `auth0-forwarded-for`
   * in `request.headers` so the OP's brute-force protection sees the user's IP.
   * Throws `MfaRequiredError` (with `mfaToken`) when the OP asks for MFA.
   */
  async loginWithPassword(body: LoginWithPasswordRequest, validation?: IdTokenValidationOptions, request?: RequestOptions): Promise<TokenSet> {
    const grantType = body.realm === undefined ? 'password' : PASSWORD_REALM_GRANT;
    const params = defined({ username: body.username, password: body.password, scope: body.scope, audience: body.audience, realm: body.realm });
    return this.#grant(grantType, { ...cleanExtra(body.extra), ...params }, body, validation, request);
  }

  /** Authorization code exchange for a confidential client. */
  async loginWithAuthCode(body: LoginWithAuthCodeRequest, validation?: IdTokenValidationOptions, request?: RequestOptions): Promise<TokenSet> {
    const params = { code: body.code, redirect_uri: body.redirectUri };
    return this.#grant('authorization_code', { ...cleanExtra(body.extra), ...params }, body, validation, request);
  }

  /** Authorization code exchange with the PKCE verifier. */
  async loginWithAuthCodeWithPKCE(body: LoginWithAuthCodeWithPKCERequest, validation?: IdTokenValidationOptions, request?: RequestOptions): Promise<TokenSet> {
    const params = { code: body.code, code_verifier: body.codeVerifier, redirect_uri: body.redirectUri };
    return this.#grant('authorization_code', { ...cleanExtra(body.extra), ...params }, body, validation, request);
  }

  /** Client Credentials grant (machine to machine) for an API `audience`, optionally in an organization. */
  async loginWithClientCredentials(body: LoginWithClientCredentialsRequest, validation?: IdTokenValidationOptions, request?: RequestOptions): Promise<TokenSet> {
    if (typeof body.audience !== 'string' || body.audience.length === 0) {
      throw new OidcError('ERR_BAD_REQUEST', 'loginWithClientCredentials: "audience" is required', { status: 400 });
    }
    const params = defined({ audience: body.audience, organization: body.organization });
    return this.#grant('client_credentials', { ...cleanExtra(body.extra), ...params }, body, validation, request);
  }

  /** Any OAuth 2.0 grant; `body` may not set `grant_type` or the client's credentials. */
  async loginWithGrant(grantType: string, body: Record<string, string>, validation?: IdTokenValidationOptions, request?: RequestOptions): Promise<TokenSet> {
    return this.#grant(grantType, cleanExtra(body), {}, validation, request);
  }

  /** Refresh grant; `scope` may ask for less than was granted. */
  async refreshToken(body: RefreshTokenRequest, validation?: SessionBoundValidation, request?: RequestOptions): Promise<TokenSet> {
    const params = defined({ refresh_token: body.refreshToken, scope: body.scope });
    return this.#grant('refresh_token', { ...cleanExtra(body.extra), ...params }, body, validation, request);
  }

  /** Revokes a refresh token (RFC 7009). */
  async revokeRefreshToken(body: RevokeRefreshTokenRequest, request?: RequestOptions): Promise<void> {
    const { config, server } = await this.#configuration(body, request);
    if (!server.metadata.revocation_endpoint) {
      throw new OidcError('ERR_OP_ERROR', 'revocation: the OP advertises no revocation_endpoint', { status: 500 });
    }
    try {
      await oidc.tokenRevocation(config, body.refreshToken, { ...cleanExtra(body.extra), token_type_hint: 'refresh_token' });
      log('refresh token revoked');
    } catch (err) {
      throw toOidcError(err, 'revocation');
    }
  }

  /** Pushed Authorization Request (RFC 9126): returns the `request_uri` for `/authorize`. */
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
      return await oidc.fetchUserInfo(config, accessToken, expectedSubject, this.#dpopOptions(config));
    } catch (err) {
      throw toOidcError(err, 'userinfo');
    }
  }

  // ---- used by the Express layer -----------------------------------------

  /** Internal: the URL to send the browser to, through PAR when `pushed` is true. */
  async authorizationUrl(params: Record<string, string>, pushed: boolean, request?: RequestOptions): Promise<string> {
    const { config, server } = await this.#configuration({}, request);
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
        this.#dpopOptions(config),
      );
    } catch (err) {
      throw toOidcError(err, 'code exchange', idTokenCheckFailed(err) ? 'ERR_ID_TOKEN_INVALID' : 'ERR_INVALID_RESPONSE');
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
    const server = await this.#discover();
    return validateIdToken(idToken, server.keys, this.#idTokenSettings(this.clientID, server), {
      ...validation,
      ...(validation.expectedSubject === undefined ? {} : { sub: validation.expectedSubject }),
    });
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
      response = await oidc.genericGrantRequest(config, grantType, { ...this.#tokenEndpointParams, ...params }, this.#dpopOptions(config));
    } catch (err) {
      throw toOidcError(err, `${grantType === PASSWORD_REALM_GRANT ? 'password-realm' : grantType} grant`, idTokenCheckFailed(err) ? 'ERR_ID_TOKEN_INVALID' : 'ERR_INVALID_RESPONSE');
    }
    log('%s grant succeeded', grantType === PASSWORD_REALM_GRANT ? 'password-realm' : grantType);
    return this.#finish(response, server, client.clientID ?? this.clientID, validation);
  }

  async #finish(response: TokenEndpointResponse, server: ServerState, clientID: string, validation: SessionBoundValidation = {}): Promise<TokenSet> {
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
      url = await oidc.buildAuthorizationUrlWithPAR(config, params, this.#dpopOptions(config));
    } catch (err) {
      throw toOidcError(err, 'pushed authorization request');
    }
    const requestUri = url.searchParams.get('request_uri');
    if (!requestUri) throw new OidcError('ERR_INVALID_RESPONSE', 'pushed authorization request: no request_uri in the response', { status: 502 });
    log('pushed authorization request accepted');
    return { requestUri, expiresIn };
  }

  #idTokenSettings(clientID: string, server: ServerState) {
    return { issuer: server.metadata.issuer, clientID, alg: this.#alg, clockTolerance: this.#clockTolerance };
  }

  #dpopOptions(config: oidc.Configuration): oidc.DPoPOptions | undefined {
    return this.#dpopKeyPair === undefined ? undefined : { DPoP: oidc.getDPoPHandle(config, this.#dpopKeyPair) };
  }

  #clientAuth(clientID: string, secret: string | undefined): oidc.ClientAuth {
    const own = clientID === this.clientID;
    const method = own ? this.#method : secret ? 'client_secret_post' : 'none';
    switch (method) {
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
    const server = await this.#discover();
    const clientID = client.clientID ?? this.clientID;
    const secret = client.clientSecret ?? (clientID === this.clientID ? this.#clientSecret : undefined);
    const config = new oidc.Configuration(
      server.metadata,
      clientID,
      { id_token_signed_response_alg: this.#alg, [oidc.clockTolerance]: this.#clockTolerance },
      this.#clientAuth(clientID, secret),
    );
    config.timeout = this.#timeout / 1000;
    if (this.#insecure) oidc.allowInsecureRequests(config);
    config[oidc.customFetch] = this.#fetcher(request, onResponse);
    return { config, server };
  }

  /** fetch with the caller's extra headers and abort signal, and the configured timeout. */
  #fetcher(request?: RequestOptions, onResponse?: (url: string, response: Response) => Promise<void>): oidc.CustomFetch {
    return async (url, options) => {
      const headers = new Headers(options.headers as HeadersInit);
      for (const [name, value] of Object.entries(request?.headers ?? {})) {
        if (!RESERVED_HEADERS.has(name.toLowerCase())) headers.set(name, value);
      }
      const signals = [options.signal, request?.signal, AbortSignal.timeout(this.#timeout)].filter((s): s is AbortSignal => s !== undefined);
      const response = await fetch(url, { ...options, headers, signal: AbortSignal.any(signals) } as RequestInit);
      if (onResponse) await onResponse(url, response);
      return response;
    };
  }

  /** Discovery, cached for `discoveryCacheMaxAge`; a failed attempt is forgotten so the next call retries. */
  #discover(): Promise<ServerState> {
    if (this.#server !== undefined && Date.now() < this.#serverFresh) return this.#server;
    const attempt = this.#fetchServer();
    this.#server = attempt;
    this.#serverFresh = Number.POSITIVE_INFINITY;
    attempt.then(
      () => {
        if (this.#server === attempt) this.#serverFresh = Date.now() + this.#cacheMaxAge;
      },
      () => {
        if (this.#server === attempt) this.#server = undefined;
      },
    );
    return attempt;
  }

  async #fetchServer(): Promise<ServerState> {
    let metadata: oidc.ServerMetadata;
    try {
      const discovered = await oidc.discovery(new URL(this.issuerBaseURL), this.clientID, undefined, undefined, {
        timeout: this.#timeout / 1000,
        ...(this.#insecure ? { execute: [oidc.allowInsecureRequests] } : {}),
      });
      metadata = discovered.serverMetadata();
    } catch (err) {
      const cause = toOidcError(err, 'discovery');
      log('discovery failed: %s', cause.message);
      throw new OidcError(cause.code === 'ERR_OP_UNREACHABLE' ? 'ERR_OP_UNREACHABLE' : 'ERR_DISCOVERY_FAILED', cause.message, {
        status: cause.status >= 500 ? cause.status : 502,
      });
    }
    if (!metadata.jwks_uri) throw new OidcError('ERR_DISCOVERY_FAILED', 'discovery: the OP advertises no jwks_uri', { status: 502 });
    log('discovered %s', metadata.issuer);
    // Keep the key set (and its cached keys) across rediscovery unless the URI changed.
    if (this.#keys?.uri !== metadata.jwks_uri) {
      const jwksUrl = new URL(metadata.jwks_uri);
      this.#keys = {
        uri: metadata.jwks_uri,
        keys: createRemoteJWKSet(jwksUrl, {
          timeoutDuration: this.#timeout,
          cooldownDuration: this.#jwksCooldown,
          cacheMaxAge: this.#cacheMaxAge,
        }),
      };
    }
    return { metadata, keys: this.#keys.keys, jwksUri: metadata.jwks_uri };
  }
}

/** openid-client's own ID token claim checks (nonce, exp, aud...) failed. */
function idTokenCheckFailed(err: unknown): boolean {
  const e = err as { message?: unknown; cause?: unknown };
  return typeof e?.message === 'string' && /ID Token|JWT/.test(e.message);
}
