import { OidcError } from './errors.js';

/**
 * The two Redis commands `RedisRefreshLock` and `RedisLogoutIndex` send,
 * typed by shape so that no Redis library is a dependency: a node-redis v5
 * client (`createClient()` from `redis`) fits as it is. Any other client fits
 * through a small adapter with these two methods.
 *
 * @example
 * ```ts
 * import { createClient } from 'redis';
 * const redis = createClient({ url: process.env.REDIS_URL, disableOfflineQueue: true });
 * redis.on('error', (err) => console.error('redis:', err.message));
 * await redis.connect();
 * const lock = new RedisRefreshLock(redis);
 * ```
 */
export interface RedisClientLike {
  /** `SET key value PX|EX ttl NX`: resolves to `'OK'` when set, null when the key exists. */
  set(
    key: string,
    value: string,
    options: { expiration: { type: 'PX' | 'EX'; value: number }; condition: 'NX' },
  ): Promise<unknown>;
  /** `EVAL script numkeys keys... args...`. */
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

/** Options shared by the Redis-backed helpers. */
export interface RedisHelperOptions {
  /** Prefix of every key written. */
  prefix?: string;
  /**
   * Milliseconds a Redis call may take before it fails with
   * `ERR_SESSION_STORE_UNAVAILABLE` (503), so an outage never hangs a request.
   * Default 2000, like `session.storeTimeout`.
   */
  timeout?: number;
}

export const DEFAULT_REDIS_TIMEOUT = 2_000;

function unavailable(what: string, cause?: unknown): OidcError {
  return new OidcError('ERR_SESSION_STORE_UNAVAILABLE', `${what}: Redis is unavailable`, { status: 503, ...(cause === undefined ? {} : { cause }) });
}

/**
 * Settles with the call's result, or rejects with a 503 `OidcError` when the
 * call fails or takes longer than `ms`. A call that answers after the timeout
 * is handed to `onLate`, so its effect can be undone.
 */
export function withTimeout<T>(call: () => Promise<T>, ms: number, what: string, onLate?: (value: T) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      reject(unavailable(what));
    }, ms);
    let pending: Promise<T>;
    try {
      pending = call();
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(
      (value) => {
        if (settled) return onLate?.(value);
        settled = true;
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(unavailable(what, err));
      },
    );
  });
}
