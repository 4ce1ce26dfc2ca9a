/**
 * express-oidc: OpenID Connect sign-in for Express, with access tokens kept fresh.
 * @packageDocumentation
 */
import './context/index.js';

export { auth, requiresAuth, claimCheck, claimEquals, claimIncludes } from './middleware/index.js';
export type { AuthMiddleware, RequiresAuthOptions, ClaimChecker } from './middleware/index.js';
export { AuthClient } from './client/index.js';
export type * from './client/index.js';
export type * from './config/types.js';
export { AccessToken, RequestContext, ResponseContext, type GetAccessTokenOptions } from './context/index.js';
export type { LogoutOptions, CallbackOptions } from './routes/index.js';
export { OidcError, MfaRequiredError, isOidcError, type ErrorCode } from './errors.js';
export { MemoryStore, GuardedStore, MemoryLogoutIndex, type LogoutIndex, type OidcSession } from './session/index.js';
export { MemoryRefreshLock, type RefreshLock, type ReleaseLock, type RefreshOptions } from './refresh/index.js';
