export { AuthClient } from './auth-client.js';
export { ClientCredentials, type ClientCredentialsRequest, type ClientCredentialsOptions } from './client-credentials.js';
export type {
  AuthClientOptions,
  RequestOptions,
  ClientOverrides,
  LoginWithPasswordRequest,
  LoginWithAuthCodeRequest,
  LoginWithAuthCodeWithPKCERequest,
  LoginWithClientCredentialsRequest,
  RefreshTokenRequest,
  RevokeRefreshTokenRequest,
  PushedAuthorizationRequest,
  PushedAuthorizationResponse,
  CodeExchangeChecks,
  SessionBoundValidation,
} from './auth-client.js';
export type * from './token-exchange/requests.js';
export type {
  MfaChallengeRequest,
  MfaChallengeResponse,
  LoginWithOtpRequest,
  LoginWithOobRequest,
  LoginWithRecoveryCodeRequest,
  RecoveryCodeTokenSet,
} from './mfa/index.js';
export type { IdTokenValidationOptions, IdTokenClaims } from './id-token.js';
export type { TokenSet } from './token-set.js';
export type { LogoutTokenClaims } from './logout-token.js';
export { SigningKey, type SigningKeyInput, type SigningAlg } from './signing-key.js';
export type { CustomFetch, TransportOptions } from './transport.js';
