export { auth, type AuthMiddleware } from './auth.js';
export { requiresAuth, type RequiresAuthOptions, type RequiresLoginCheck } from './requires-auth.js';
export { attemptSilentLogin, type AttemptSilentLoginOptions } from './attempt-silent-login.js';
export { claimCheck, claimEquals, claimIncludes, type ClaimChecker, type ClaimValue } from './claims.js';
