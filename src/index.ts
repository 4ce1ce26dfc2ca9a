/**
 * express-oidc: OpenID Connect sign-in for Express, with access tokens kept fresh.
 * @packageDocumentation
 */
import './context/index.js';

export { auth, requiresAuth, claimCheck, claimEquals, claimIncludes, attemptSilentLogin } from './middleware/index.js';
export type { AuthMiddleware, RequiresAuthOptions, RequiresLoginCheck, ClaimChecker, ClaimValue, AttemptSilentLoginOptions } from './middleware/index.js';
export { AuthClient, ClientCredentials } from './client/index.js';
export type * from './client/index.js';
export type * from './config/types.js';
export type { ProtectedResourceInit, ProtectedResourceToken } from './dpop/index.js';
export { AccessToken, RequestContext, ResponseContext, type GetAccessTokenOptions, type RefreshParams, type IdTokenClaims, type UserClaims } from './context/index.js';
export type {
  AccessTokenForConnectionOptions,
  ConnectionAccessToken,
  CustomTokenExchangeOptions,
  SessionTransferRedirectOptions,
  SessionTransferTokenOptions,
  SessionTransferTokenResult,
} from './context/index.js';
export type * from './migration-types.js';
export type { LogoutOptions, CallbackOptions } from './routes/index.js';
export { OidcError, MfaRequiredError, MfaPendingError, SessionExpiredError, isOidcError, type ErrorCode, type OidcErrorOptions } from './errors.js';
export { MemoryStore, GuardedStore, MemoryLogoutIndex, type LogoutIndex, type OidcSession } from './session/index.js';
export { MemoryRefreshLock, type RefreshLock, type ReleaseLock, type RefreshFailure, type RefreshOptions, type AccessTokenData } from './refresh/index.js';
export { RedisRefreshLock } from './refresh/redis-lock.js';
export { RedisLogoutIndex } from './session/redis-logout-index.js';
export type { RedisClientLike, RedisHelperOptions } from './redis-client.js';
export type { Logger } from './debug.js';
