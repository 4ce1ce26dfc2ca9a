/** Gives up the lock; only the holder's own lock is released. */
export type ReleaseLock = () => Promise<void>;

/**
 * Coordinates token refreshes so a session's refresh token is redeemed once,
 * even by concurrent requests on several app instances. The default is
 * in-process; `RedisRefreshLock` shares it through Redis.
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
