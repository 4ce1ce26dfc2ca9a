/**
 * Token refresh: one redemption of a session's refresh token at a time,
 * coordinated through a pluggable `RefreshLock`.
 */
export { Refresher, type AccessTokenData, type RefreshOptions } from './refresher.js';
export { MemoryRefreshLock, withLock, type RefreshLock, type ReleaseLock, type HoldOptions } from './lock.js';
export { mergeRefreshed } from './merge.js';
