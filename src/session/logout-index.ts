/**
 * Finds the sessions a back-channel logout must end, on whichever instance
 * they were created. Keys are `sid:<sid>` and `sub:<sub>` of the ID token.
 * As small as a session store, so other backends are easy to write.
 */
export interface LogoutIndex {
  /** Files `sessionId` under each key for `ttlSeconds`. */
  add(keys: string[], sessionId: string, ttlSeconds: number): Promise<void>;
  /** Returns and forgets the session IDs filed under `key`. */
  take(key: string): Promise<string[]>;
  /** True the first time `id` is seen within `ttlSeconds`; false for a replay. */
  claimOnce(id: string, ttlSeconds: number): Promise<boolean>;
}

/** In-process index: one instance only. Entries expire and are pruned as new ones arrive. */
export class MemoryLogoutIndex implements LogoutIndex {
  readonly #entries = new Map<string, Map<string, number>>();
  readonly #seen = new Map<string, number>();
  #lastPrune = Date.now();

  async add(keys: string[], sessionId: string, ttlSeconds: number): Promise<void> {
    const expires = Date.now() + ttlSeconds * 1000;
    this.#prune();
    for (const key of keys) {
      let ids = this.#entries.get(key);
      if (ids === undefined) this.#entries.set(key, (ids = new Map()));
      ids.set(sessionId, expires);
    }
  }

  async take(key: string): Promise<string[]> {
    const ids = this.#entries.get(key);
    this.#entries.delete(key);
    const now = Date.now();
    return ids === undefined ? [] : [...ids].filter(([, expires]) => expires > now).map(([id]) => id);
  }

  async claimOnce(id: string, ttlSeconds: number): Promise<boolean> {
    const now = Date.now();
    const until = this.#seen.get(id);
    if (until !== undefined && until > now) return false;
    this.#seen.set(id, now + ttlSeconds * 1000);
    return true;
  }

  /** At most once a minute, so filing stays O(1) on average. */
  #prune(): void {
    const now = Date.now();
    if (now - this.#lastPrune < 60_000) return;
    this.#lastPrune = now;
    for (const [key, ids] of this.#entries) {
      for (const [id, expires] of ids) if (expires <= now) ids.delete(id);
      if (ids.size === 0) this.#entries.delete(key);
    }
    for (const [id, until] of this.#seen) if (until <= now) this.#seen.delete(id);
  }
}
