import { randomBytes } from 'node:crypto';
import { debug } from '../debug.js';
import { DEFAULT_REDIS_TIMEOUT, withTimeout, type RedisClientLike, type RedisHelperOptions } from '../redis-client.js';
import type { RefreshLock, ReleaseLock } from './lock.js';

const log = debug('refresh');

/** Deletes the lock only if it still holds the holder's token: an expired lock taken over by another holder stays. */
const RELEASE_SCRIPT = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

/**
 * A `RefreshLock` every app instance sees, kept in Redis: one instance at a
 * time redeems a session's refresh token, the others wait and pick up the new
 * tokens from the session store. The lock is `SET key token NX PX ttl`, so a
 * holder that dies frees it after `ttl`; releasing deletes it only while it
 * still carries the holder's own random token.
 *
 * A Redis call that fails or outlasts `timeout` rejects with
 * `ERR_SESSION_STORE_UNAVAILABLE` (503).
 *
 * @example
 * ```ts
 * import { createClient } from 'redis';
 * import { RedisStore } from 'connect-redis';
 * import { auth, RedisRefreshLock } from 'express-oidc';
 *
 * const redis = createClient({ url: process.env.REDIS_URL, disableOfflineQueue: true });
 * redis.on('error', (err) => console.error('redis:', err.message));
 * await redis.connect();
 * app.use(auth({
 *   session: { store: new RedisStore({ client: redis }) },
 *   refreshLock: new RedisRefreshLock(redis),
 * }));
 * ```
 */
export class RedisRefreshLock implements RefreshLock {
  readonly #client: RedisClientLike;
  readonly #prefix: string;
  readonly #timeout: number;

  /** `prefix` defaults to `'oidc:lock:'`, `timeout` to 2000 ms. */
  constructor(client: RedisClientLike, options: RedisHelperOptions = {}) {
    this.#client = client;
    this.#prefix = options.prefix ?? 'oidc:lock:';
    this.#timeout = options.timeout ?? DEFAULT_REDIS_TIMEOUT;
  }

  async acquire(key: string, ttlMs: number): Promise<ReleaseLock | null> {
    const redisKey = this.#prefix + key;
    const token = randomBytes(16).toString('hex');
    const ttl = Math.max(1, Math.ceil(ttlMs));
    const release: ReleaseLock = async () => {
      await withTimeout(() => this.#client.eval(RELEASE_SCRIPT, { keys: [redisKey], arguments: [token] }), this.#timeout, 'refresh lock release');
    };
    const reply = await withTimeout(
      () => this.#client.set(redisKey, token, { expiration: { type: 'PX', value: ttl }, condition: 'NX' }),
      this.#timeout,
      'refresh lock',
      // Taken after we gave up waiting: give it back at once rather than block the session for `ttl`.
      (late) => {
        if (late === 'OK') release().catch(() => log('late refresh lock not released; it expires on its own'));
      },
    );
    return reply === 'OK' ? release : null;
  }
}
