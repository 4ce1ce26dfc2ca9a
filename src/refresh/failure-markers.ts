import { debug } from '../debug.js';
import { OidcError, type ErrorCode } from '../errors.js';
import { sessionLockKey, type RefreshFailure, type RefreshLock } from './lock.js';

const log = debug('refresh');

/** Milliseconds a refresh failure keeps other requests of the session from calling the OP again. */
export const REFRESH_FAILURE_BACKOFF_MS = 2_000;
/** Codes a failure marker may carry; anything else read back from a shared marker becomes ERR_OP_UNREACHABLE. */
const MARKED_CODES = new Set<ErrorCode>(['ERR_OP_UNREACHABLE', 'ERR_OP_ERROR', 'ERR_INVALID_RESPONSE', 'ERR_DISCOVERY_FAILED']);
/** Failures this process remembers before it drops those whose backoff is over. */
const MAX_REMEMBERED = 10_000;

/**
 * The sessions whose refresh failed moments ago: remembered in this process and marked next to
 * the refresh lock (when the lock keeps markers), so the session's other requests, here and on
 * other instances, fail fast for `REFRESH_FAILURE_BACKOFF_MS` instead of calling a failing OP
 * again.
 */
export class FailureMarkers {
  readonly #lock: RefreshLock;
  /** This process's copy of the markers, by session id. */
  readonly #seen = new Map<string, RefreshFailure>();

  constructor(lock: RefreshLock) {
    this.#lock = lock;
  }

  /** Records a failed redemption here and next to the lock (best effort: the lock's backend may be down too). */
  async mark(sid: string, code: ErrorCode): Promise<void> {
    const at = Date.now();
    const failure: RefreshFailure = { at, retryAfter: at + REFRESH_FAILURE_BACKOFF_MS, code };
    if (this.#seen.size >= MAX_REMEMBERED) {
      for (const [key, value] of this.#seen) if (value.retryAfter <= at) this.#seen.delete(key);
    }
    this.#seen.set(sid, failure);
    await this.#lock.markFailed?.(sessionLockKey(sid), failure, REFRESH_FAILURE_BACKOFF_MS).catch(() => log('refresh failure marker not stored'));
  }

  /**
   * Throws the session's recent failure seen by this process while its backoff lasts: the OP
   * just failed, so the caller fails fast (or, with a token that has not expired, is served with
   * it) instead of calling it again.
   */
  throwIfFailing(sid: string, failure = this.#seen.get(sid)): void {
    if (failure === undefined) return;
    if (failure.retryAfter <= Date.now()) {
      if (this.#seen.get(sid) === failure) this.#seen.delete(sid);
      return;
    }
    throw failingFast(failure);
  }

  /** The same, reading the marker another instance may have left next to the lock too. */
  async throwIfMarked(sid: string): Promise<void> {
    this.throwIfFailing(sid);
    const failure = await this.#lock.failure?.(sessionLockKey(sid)).catch(() => null);
    if (failure == null || failure.retryAfter <= Date.now()) return;
    this.#seen.set(sid, failure);
    this.throwIfFailing(sid, failure);
  }
}

/** The error of a refresh that failed moments ago, here or on another instance. */
function failingFast(failure: RefreshFailure): OidcError {
  const code = MARKED_CODES.has(failure.code as ErrorCode) ? (failure.code as ErrorCode) : 'ERR_OP_UNREACHABLE';
  const seconds = Math.max(1, Math.ceil((failure.retryAfter - Date.now()) / 1000));
  return new OidcError(code, `a refresh of this session failed moments ago; retried in ${seconds} s`, { status: 503 });
}
