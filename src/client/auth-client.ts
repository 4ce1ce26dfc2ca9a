import type * as oidc from 'openid-client';
import type { ProtectedResourceInit, ProtectedResourceToken } from '../dpop/protected-resource.js';
import { authorizationUrl } from './authorize.js';
import { ClientCore } from './core.js';
import { exchangeCode, loginWithAuthCode, loginWithAuthCodeWithPKCE } from './grants/authorization-code.js';
import { loginWithClientCredentials } from './grants/client-credentials.js';
import { loginWithGrant } from './grants/generic.js';
import { loginWithPassword } from './grants/password.js';
import { refreshToken } from './grants/refresh-token.js';
import type { IdTokenClaims, IdTokenValidationOptions } from './id-token.js';
import { endSessionUrl } from './logout.js';
import {
  loginWithOob,
  loginWithOtp,
  loginWithRecoveryCode,
  mfaChallenge,
  type LoginWithOobRequest,
  type LoginWithOtpRequest,
  type LoginWithRecoveryCodeRequest,
  type MfaChallengeRequest,
  type MfaChallengeResponse,
  type RecoveryCodeTokenSet,
} from './mfa/index.js';
import type { LogoutTokenClaims } from './logout-token.js';
import { pushedAuthorization } from './par.js';
import type {
  AuthClientOptions,
  CodeExchangeChecks,
  LoginWithAuthCodeRequest,
  LoginWithAuthCodeWithPKCERequest,
  LoginWithClientCredentialsRequest,
  LoginWithPasswordRequest,
  PushedAuthorizationRequest,
  PushedAuthorizationResponse,
  RefreshTokenRequest,
  RequestOptions,
  RevokeRefreshTokenRequest,
  SessionBoundValidation,
} from './requests.js';
import { fetchProtectedResource } from './resource.js';
import { revokeRefreshToken } from './revocation.js';
import type { TokenSet } from './token-set.js';
import { customTokenExchange, getAccessTokenForConnection } from './token-exchange/index.js';
import type {
  AccessTokenForConnectionRequest,
  ConnectionTokenSet,
  CustomTokenExchangeRequest,
  TokenExchangeResult,
} from './token-exchange/index.js';
import { validateIdToken, validateLogoutToken } from './token-validation.js';
import { fetchUserInfo } from './userinfo.js';

export type * from './requests.js';
export type * from './token-exchange/requests.js';
export type { LoginWithOobRequest, LoginWithOtpRequest, LoginWithRecoveryCodeRequest, MfaChallengeRequest, MfaChallengeResponse, RecoveryCodeTokenSet } from './mfa/index.js';

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
  readonly #core: ClientCore;

  constructor(options: AuthClientOptions) {
    this.#core = new ClientCore(options);
    this.issuerBaseURL = this.#core.issuerBaseURL;
    this.clientID = this.#core.clientID;
  }

  /** Whether tokens are sender-constrained with DPoP. */
  get usesDPoP(): boolean {
    return this.#core.dpop !== undefined;
  }

  /**
   * The JWK SHA-256 thumbprint (RFC 7638) of the DPoP public key, the value
   * DPoP-bound tokens carry in `cnf.jkt`; undefined without DPoP.
   */
  async dpopThumbprint(): Promise<string | undefined> {
    return this.#core.dpop?.thumbprint();
  }

  /** The OP's discovered metadata (cached; a failure is not cached). */
  async serverMetadata(): Promise<oidc.ServerMetadata> {
    return (await this.#core.discovery.get()).metadata;
  }

  /**
   * Resolves once the OP's discovery document and JWKS are loaded; rejects with the reason
   * (an `OidcError`: `ERR_DISCOVERY_FAILED` or `ERR_OP_UNREACHABLE`, with `url`, `opStatus`
   * and `cause`). A failure is not cached: the next call tries again.
   *
   * @example
   * ```ts
   * await client.ready(); // at start-up, or in a health route
   * ```
   */
  async ready(): Promise<void> {
    await this.#core.discovery.ready();
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
    return loginWithPassword(this.#core, body, validation, request);
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
    return loginWithAuthCode(this.#core, body, validation, request);
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
    return loginWithAuthCodeWithPKCE(this.#core, body, validation, request);
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
    return loginWithClientCredentials(this.#core, body, validation, request);
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
    return loginWithGrant(this.#core, grantType, body, validation, request);
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
    return refreshToken(this.#core, body, validation, request);
  }

  // ---- Auth0's MFA API: finishing an `mfa_required` answer ------------------

  /**
   * Starts a second factor for the `mfa_token` of an `mfa_required` answer
   * (Auth0's `/mfa/challenge`): `otp` needs no more than the user's code;
   * `oob` sends a code (or a push) and returns the `oobCode` for `loginWithOob`.
   *
   * @example
   * ```ts
   * const { challengeType, oobCode } = await client.mfaChallenge({ mfaToken, challengeType: 'oob', authenticatorId: 'sms|dev_123' });
   * ```
   */
  async mfaChallenge(body: MfaChallengeRequest, request?: RequestOptions): Promise<MfaChallengeResponse> {
    return mfaChallenge(this.#core, body, request);
  }

  /**
   * Finishes an `mfa_required` login with a one-time code from an
   * authenticator app (grant `http://auth0.com/oauth/grant-type/mfa-otp`).
   * The ID token is validated like every other.
   *
   * @example
   * ```ts
   * try {
   *   await client.loginWithPassword({ username, password, scope: 'openid' });
   * } catch (err) {
   *   if (!(err instanceof MfaRequiredError)) throw err;
   *   const tokens = await client.loginWithOtp({ mfaToken: err.mfaToken, otp: '123456' });
   * }
   * ```
   */
  async loginWithOtp(body: LoginWithOtpRequest, validation?: IdTokenValidationOptions, request?: RequestOptions): Promise<TokenSet> {
    return loginWithOtp(this.#core, body, validation, request);
  }

  /**
   * Finishes an `mfa_required` login with an out-of-band challenge (grant
   * `http://auth0.com/oauth/grant-type/mfa-oob`): the `oobCode` of
   * `mfaChallenge`, and the `bindingCode` the user received when its
   * `bindingMethod` is `prompt`.
   *
   * @example
   * ```ts
   * const { oobCode } = await client.mfaChallenge({ mfaToken, challengeType: 'oob' });
   * const tokens = await client.loginWithOob({ mfaToken, oobCode, bindingCode: codeFromSms });
   * ```
   */
  async loginWithOob(body: LoginWithOobRequest, validation?: IdTokenValidationOptions, request?: RequestOptions): Promise<TokenSet> {
    return loginWithOob(this.#core, body, validation, request);
  }

  /**
   * Finishes an `mfa_required` login with a recovery code (grant
   * `http://auth0.com/oauth/grant-type/mfa-recovery-code`); the result's
   * `recoveryCode` replaces the used one: show it to the user.
   *
   * @example
   * ```ts
   * const { recoveryCode, ...tokens } = await client.loginWithRecoveryCode({ mfaToken, recoveryCode: typed });
   * ```
   */
  async loginWithRecoveryCode(body: LoginWithRecoveryCodeRequest, validation?: IdTokenValidationOptions, request?: RequestOptions): Promise<RecoveryCodeTokenSet> {
    return loginWithRecoveryCode(this.#core, body, validation, request);
  }

  /**
   * RFC 8693 token exchange (Auth0 Custom Token Exchange): trades
   * `subjectToken` (of `subjectTokenType`, default an access token) for a
   * token for `audience`. With an `actorToken` (delegation) its
   * `actorTokenType` is required; the result then carries the `act` claim
   * when the new token states one. `extra` may not set the grant, the
   * client's identity or a field named here. An ID token in the answer is
   * fully validated. Throws `ERR_TOKEN_EXCHANGE_INVALID` (400) before any
   * request for an incomplete request, `ERR_TOKEN_EXCHANGE_FAILED` (with the
   * OP's `error`) when the OP refuses.
   *
   * @example
   * ```ts
   * const { accessToken, issuedTokenType } = await client.customTokenExchange({
   *   subjectToken: externalToken,
   *   subjectTokenType: 'urn:acme:legacy-token',
   *   audience: 'https://api.example.com',
   * });
   * ```
   */
  async customTokenExchange(body: CustomTokenExchangeRequest, validation?: IdTokenValidationOptions, request?: RequestOptions): Promise<TokenExchangeResult> {
    return customTokenExchange(this.#core, body, validation, request);
  }

  /**
   * Auth0 Token Vault: the access token of a connected provider (e.g. Google)
   * for the user whose `refreshToken` is given, through Auth0's federated
   * connection access token exchange. The refresh token is presented, not
   * redeemed: it stays valid. `loginHint` picks one of several linked
   * accounts. Throws `ERR_TOKEN_EXCHANGE_INVALID` (400) before any request
   * for an incomplete request, `ERR_CONNECTION_TOKEN_FAILED` (with the OP's
   * `error`) when the OP refuses.
   *
   * @example
   * ```ts
   * const { accessToken, expiresAt } = await client.getAccessTokenForConnection({ connection: 'google-oauth2', refreshToken });
   * ```
   */
  async getAccessTokenForConnection(body: AccessTokenForConnectionRequest, request?: RequestOptions): Promise<ConnectionTokenSet> {
    return getAccessTokenForConnection(this.#core, body, request);
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
    return revokeRefreshToken(this.#core, body, request);
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
    return pushedAuthorization(this.#core, body, request);
  }

  /** Userinfo with an access token; the answer must be about `expectedSubject`. */
  async fetchUserInfo(accessToken: string, expectedSubject: string, request?: RequestOptions): Promise<Record<string, unknown>> {
    return fetchUserInfo(this.#core, accessToken, expectedSubject, request);
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
    return fetchProtectedResource(this.#core, accessToken, url, init);
  }

  // ---- used by the Express layer -----------------------------------------

  /** Internal: the URL to send the browser to, through PAR when `pushed` is true. */
  async authorizationUrl(params: Record<string, string>, pushed: boolean, request?: RequestOptions): Promise<string> {
    return authorizationUrl(this.#core, params, pushed, request);
  }

  /** Internal: exchanges the code from a callback whose parameters passed the state and issuer checks. */
  async exchangeCode(callbackParams: URLSearchParams, checks: CodeExchangeChecks, request?: RequestOptions): Promise<TokenSet> {
    return exchangeCode(this.#core, callbackParams, checks, request);
  }

  /** Internal: the OP logout URL, or Auth0's `/v2/logout` when the OP has no end-session endpoint. */
  async endSessionUrl(params: { idTokenHint?: string; postLogoutRedirectUri: string; extra?: Record<string, string> }): Promise<string> {
    return endSessionUrl(this.#core, params);
  }

  /** Internal: validates an ID token with this client's settings. */
  async validateIdToken(idToken: string, validation: SessionBoundValidation = {}): Promise<IdTokenClaims> {
    return validateIdToken(this.#core, idToken, validation);
  }

  /** Internal: validates a back-channel logout token against the same cached keys and settings as ID tokens. */
  async validateLogoutToken(logoutToken: string): Promise<LogoutTokenClaims> {
    return validateLogoutToken(this.#core, logoutToken);
  }
}
