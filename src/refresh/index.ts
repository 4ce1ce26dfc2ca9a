/**
 * Token refresh: one redemption of a session's refresh token at a time,
 * coordinated through a pluggable `RefreshLock`.
 */
export { Refresher, refreshHoldMs, refreshLockTtlMs, type AccessTokenData, type RefreshOptions } from './refresher.js';
export { REFRESH_FAILURE_BACKOFF_MS } from './failure-markers.js';
export { PENDING_WRITE_LIMIT_MS } from './pending-writes.js';
export { MemoryRefreshLock, withLock, acquireLock, LockKeeper, type RefreshLock, type ReleaseLock, type HoldOptions, type RefreshFailure } from './lock.js';
export { mergeRefreshed } from './merge.js';
