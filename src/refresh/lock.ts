import { OidcError } from '../errors.js';

/** Gives up the lock; only the holder's own lock is released. */
export type ReleaseLock = () => Promise<void>;

/**
 * Coordinates token refreshes so a session's refresh token is redeemed once,
 * even by concurrent requests on several app instances. The default is
 * in-process; a shared implementation (e.g. on Redis) makes it hold across
 * instances.
 *
 * @example
 * ```ts
 * const release = await lock.acquire('refresh:session-id', 10_000);
 * if (release !== null) {
 *   try { await work(); } finally { await release(); }
 * }
 * ```
 */
export interface RefreshLock {
  /**
   * Takes the lock for `key` for at most `ttlMs` (so a holder that dies does
   * not block the session for longer), or resolves to null when another
   * holder has it.
   */
  acquire(key: string, ttlMs: number): Promise<ReleaseLock | null>;
}

/** One process only: enough when sessions live in the in-process store. */
export class MemoryRefreshLock implements RefreshLock {
  readonly #held = new Map<string, { token: symbol; expires: number }>();

  async acquire(key: string, ttlMs: number): Promise<ReleaseLock | null> {
    const now = Date.now();
    const current = this.#held.get(key);
    if (current !== undefined && current.expires > now) return null;
    const token = Symbol(key);
    this.#held.set(key, { token, expires: now + ttlMs });
    return async () => {
      if (this.#held.get(key)?.token === token) this.#held.delete(key);
    };
  }
}

/**
 * The lock every `auth()` of this process uses unless told otherwise. Shared,
 * so two `auth()` instances in one process that share a session store still
 * refresh a session once; keys hold random session ids, so they never clash.
 */
export const processRefreshLock: RefreshLock = new MemoryRefreshLock();

export interface HoldOptions {
  /** Milliseconds the lock is held at most (a holder that dies frees it then). */
  holdMs: number;
  /** Milliseconds to wait for a busy lock before giving up. */
  waitMs: number;
}

const FIRST_POLL_MS = 10;
const MAX_POLL_MS = 100;

/**
 * Runs `work` while holding `key`, waiting (polling with a growing interval,
 * bounded by `waitMs`) while someone else holds it. Throws
 * `ERR_REFRESH_LOCK_TIMEOUT` when the lock stays busy.
 */
export async function withLock<T>(lock: RefreshLock, key: string, options: HoldOptions, work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + options.waitMs;
  let pause = FIRST_POLL_MS;
  for (;;) {
    let release: ReleaseLock | null;
    try {
      release = await lock.acquire(key, options.holdMs);
    } catch {
      throw new OidcError('ERR_REFRESH_LOCK_TIMEOUT', 'the refresh lock is unavailable', { status: 503 });
    }
    if (release !== null) {
      try {
        return await work();
      } finally {
        // A failed release only delays the next holder until the lock expires.
        await release().catch(() => {});
      }
    }
    if (Date.now() + pause > deadline) {
      throw new OidcError('ERR_REFRESH_LOCK_TIMEOUT', 'another refresh of this session did not finish in time', { status: 503 });
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
    pause = Math.min(pause * 2, MAX_POLL_MS);
  }
}
