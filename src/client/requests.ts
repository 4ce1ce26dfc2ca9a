import type { ClientAuthMethod, DPoPOptions } from '../config/types.js';
import { OidcError } from '../errors.js';
import type { IdTokenValidationOptions } from './id-token.js';
import type { TransportOptions } from './transport.js';

/** Connection settings of an `AuthClient`; `auth()` builds one from its own config. */
export interface AuthClientOptions extends TransportOptions {
  issuerBaseURL: string;
  clientID: string;
  clientSecret?: string;
  /** Default: `client_secret_basic` with a secret, else `none`. */
  clientAuthMethod?: ClientAuthMethod;
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
  /**
   * Sender-constrain tokens with DPoP (RFC 9449): `true` generates an ES256
   * key pair on first use (non-extractable, this instance only); `{ keyPair }`
   * uses yours (the same on every instance); `{ alg }` picks the generated key's algorithm.
   */
  useDPoP?: boolean | DPoPOptions;
  /** Shorthand for `useDPoP: { keyPair }`. */
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
  /** Extra parameters for this exchange, over the client's `tokenEndpointParams`. */
  tokenEndpointParams?: Record<string, string>;
}

/** Body fields no caller may set through `extra`: they carry the client's identity and the grant. */
const RESERVED_BODY_FIELDS = new Set(['grant_type', 'client_id', 'client_secret', 'client_assertion', 'client_assertion_type']);

/** `extra` without the reserved fields and non-string values. */
export function cleanExtra(extra: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(extra ?? {})) {
    if (!RESERVED_BODY_FIELDS.has(key) && typeof value === 'string') out[key] = value;
  }
  return out;
}

/** The parameters that have a value, as strings. */
export function defined(params: Record<string, string | number | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(params)) if (value !== undefined) out[key] = String(value);
  return out;
}

export function requireString(value: unknown, what: string): void {
  if (typeof value !== 'string' || value.length === 0) {
    throw new OidcError('ERR_BAD_REQUEST', `${what} is required`, { status: 400 });
  }
}
