import { OidcError } from '../errors.js';

/**
 * Gives up the lock; only the holder's own lock is released. A lock may also
 * offer `extend`, which keeps it for another `ttlMs` from now while the holder
 * still has it (resolves to false when it expired and is no longer the
 * holder's). Without `extend` the holder asks for its whole time budget at
 * once, so a holder that dies blocks the session for that long.
 */
export interface ReleaseLock {
  (): Promise<void>;
  /** Keeps the lock for `ttlMs` more; false when the holder lost it. */
  extend?: (ttlMs: number) => Promise<boolean>;
}

/** What a failed refresh leaves next to the lock, so other waiters do not call a failing OP again. */
export interface RefreshFailure {
  /** Epoch milliseconds of the failure. */
  at: number;
  /** Epoch milliseconds from which a refresh may be tried again. */
  retryAfter: number;
  /** The `OidcError` code of the failure. */
  code: string;
}

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
  /**
   * Optional: true when every `ReleaseLock` this lock returns has `extend`.
   * Such a lock is taken for a short lifetime and extended while its holder
   * works; any other lock is taken for the refresh's whole time budget.
   */
  readonly extendable?: boolean;
  /**
   * Optional: records that the refresh behind `key` just failed, for
   * `ttlMs`, so waiters elsewhere fail fast instead of calling the OP again.
   */
  markFailed?(key: string, failure: RefreshFailure, ttlMs: number): Promise<void>;
  /** Optional: the failure `markFailed` recorded for `key`, while it lasts. */
  failure?(key: string): Promise<RefreshFailure | null>;
}

/** One process only: enough when sessions live in the in-process store. */
export class MemoryRefreshLock implements RefreshLock {
  /** Its `ReleaseLock`s can `extend`. */
  readonly extendable = true;
  readonly #held = new Map<string, { token: symbol; expires: number }>();
  readonly #failures = new Map<string, { failure: RefreshFailure; expires: number }>();

  /** Takes `key` for `ttlMs` unless another holder has it; the release function can `extend` it. */
  async acquire(key: string, ttlMs: number): Promise<ReleaseLock | null> {
    const now = Date.now();
    const current = this.#held.get(key);
    if (current !== undefined && current.expires > now) return null;
    const token = Symbol(key);
    this.#held.set(key, { token, expires: now + ttlMs });
    const release: ReleaseLock = async () => {
      if (this.#held.get(key)?.token === token) this.#held.delete(key);
    };
    release.extend = async (more: number) => {
      const held = this.#held.get(key);
      if (held?.token !== token || held.expires <= Date.now()) return false;
      held.expires = Date.now() + more;
      return true;
    };
    return release;
  }

  /** Keeps the failure marker of `key` for `ttlMs`. */
  async markFailed(key: string, failure: RefreshFailure, ttlMs: number): Promise<void> {
    this.#failures.set(key, { failure: { ...failure }, expires: Date.now() + ttlMs });
  }

  /** The failure marker of `key` while it lasts, else null. */
  async failure(key: string): Promise<RefreshFailure | null> {
    const entry = this.#failures.get(key);
    if (entry === undefined) return null;
    if (entry.expires <= Date.now()) {
      this.#failures.delete(key);
      return null;
    }
    return { ...entry.failure };
  }
}

/** The key of a session's refresh lock (and of its failure marker). */
export const sessionLockKey = (sid: string): string => `refresh:${sid}`;

/**
 * The lock every `auth()` of this process uses unless told otherwise. Shared,
 * so two `auth()` instances in one process that share a session store still
 * refresh a session once; keys hold random session ids, so they never clash.
 */
export const processRefreshLock: RefreshLock = new MemoryRefreshLock();

export interface HoldOptions {
  /**
   * Milliseconds the lock is held at most. With a lock that can `extend`, it
   * is taken for `ttlMs` and extended every third of it while `work` runs, up
   * to `holdMs`; a holder that dies frees it within `ttlMs`.
   */
  holdMs: number;
  /** Milliseconds to wait for a busy lock before giving up. */
  waitMs: number;
  /** Lifetime of the lock between extensions (default `holdMs`: no extension). */
  ttlMs?: number;
  /** Called after each busy poll; throwing from it stops the wait with that error. */
  onBusy?: () => void | Promise<void>;
}

const FIRST_POLL_MS = 10;
const MAX_POLL_MS = 100;

/** How a held lock is renewed: for `ttlMs` every third of it, until `until` (epoch milliseconds). */
interface Renewal {
  ttlMs: number;
  until: number;
  /** Takes the lock again when an extension finds it gone; null when another holder has it. */
  retake: () => Promise<ReleaseLock | null>;
}

/**
 * A held lock. With a renewal it renews itself every third of its lifetime until `release()`, at
 * most until `until`; when an extension finds the lock gone (it expired while the backend was
 * unreachable), it takes it again if it is free. Without one (a lock taken for the whole budget
 * at once) it only releases.
 */
export class LockKeeper {
  #release: ReleaseLock;
  readonly #renewal: Renewal | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(release: ReleaseLock, renewal?: Renewal) {
    this.#release = release;
    this.#renewal = renewal === undefined ? undefined : { ...renewal };
    if (this.#renewal !== undefined) this.#schedule(this.#renewal);
  }

  /** Keeps the lock (extending it) until `until` instead, e.g. while tokens wait to be stored. */
  keepUntil(until: number): void {
    if (this.#renewal !== undefined) this.#renewal.until = until;
  }

  /** Stops extending and releases the lock (a failed release only delays the next holder until expiry). */
  async release(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#release().catch(() => {});
  }

  #schedule(renewal: Renewal): void {
    this.#timer = setTimeout(() => void this.#extend(renewal), Math.max(10, Math.floor(renewal.ttlMs / 3)));
    // Extending must not keep a process alive that has nothing else to do.
    this.#timer.unref();
  }

  async #extend(renewal: Renewal): Promise<void> {
    const left = renewal.until - Date.now();
    if (left <= 0) return;
    // An extension that fails (backend down) is tried again next time; the lock expires if none lands.
    const kept = await this.#release.extend?.(Math.min(renewal.ttlMs, left)).catch(() => undefined);
    if (kept === false && !this.#stopped) {
      const again = await renewal.retake().catch(() => null);
      if (again !== null) {
        // Released while it was being taken again: nobody else would release the new one.
        if (this.#stopped) await again().catch(() => {});
        else this.#release = again;
      }
    }
    if (!this.#stopped) this.#schedule(renewal);
  }
}

/** Waits (polling with a growing interval, bounded by `waitMs`) until `key` is taken. */
export async function acquireLock(lock: RefreshLock, key: string, options: HoldOptions): Promise<LockKeeper> {
  const deadline = Date.now() + options.waitMs;
  const ttlMs = options.ttlMs ?? options.holdMs;
  const extendable = lock.extendable === true;
  let pause = FIRST_POLL_MS;
  for (;;) {
    let release: ReleaseLock | null;
    try {
      // A lock that cannot extend is asked for the whole budget at once.
      release = await lock.acquire(key, extendable ? ttlMs : options.holdMs);
    } catch {
      throw new OidcError('ERR_REFRESH_LOCK_TIMEOUT', 'the refresh lock is unavailable', { status: 503 });
    }
    if (release !== null) {
      // Taken for the whole budget: nothing to renew.
      if (!extendable) return new LockKeeper(release);
      return new LockKeeper(release, { ttlMs, until: Date.now() + options.holdMs, retake: () => lock.acquire(key, ttlMs) });
    }
    await options.onBusy?.();
    if (Date.now() + pause > deadline) {
      throw new OidcError('ERR_REFRESH_LOCK_TIMEOUT', 'another refresh of this session did not finish in time', { status: 503 });
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
    pause = Math.min(pause * 2, MAX_POLL_MS);
  }
}

/**
 * Runs `work` while holding `key`, waiting (polling with a growing interval,
 * bounded by `waitMs`) while someone else holds it. Throws
 * `ERR_REFRESH_LOCK_TIMEOUT` when the lock stays busy.
 */
export async function withLock<T>(lock: RefreshLock, key: string, options: HoldOptions, work: () => Promise<T>): Promise<T> {
  const keeper = await acquireLock(lock, key, options);
  try {
    return await work();
  } finally {
    await keeper.release();
  }
}
