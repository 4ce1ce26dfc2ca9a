/**
 * Token refresh: one redemption of a session's refresh token at a time,
 * coordinated through a pluggable `RefreshLock`.
 */
export { Refresher, PENDING_WRITE_LIMIT_MS, REFRESH_FAILURE_BACKOFF_MS, refreshHoldMs, refreshLockTtlMs, type AccessTokenData, type RefreshOptions } from './refresher.js';
export { MemoryRefreshLock, withLock, acquireLock, LockKeeper, type RefreshLock, type ReleaseLock, type HoldOptions, type RefreshFailure } from './lock.js';
export { mergeRefreshed } from './merge.js';
