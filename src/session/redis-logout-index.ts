import { DEFAULT_REDIS_TIMEOUT, withTimeout, type RedisClientLike, type RedisHelperOptions } from '../redis-client.js';
import type { LogoutIndex } from './logout-index.js';

/**
 * Files a session under one key: a sorted set scored by each entry's expiry
 * (epoch ms), so expired entries are dropped as new ones arrive and the set
 * does not grow for a user who signs in every day. The key lives as long as
 * its longest entry.
 * KEYS[1] key, ARGV[1] session id, ARGV[2] expiry, ARGV[3] now.
 */
const ADD_SCRIPT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local want = tonumber(ARGV[2]) - tonumber(ARGV[3])
if redis.call('PTTL', KEYS[1]) < want then redis.call('PEXPIRE', KEYS[1], want) end
return 1`;

/** Returns the live entries of a key and deletes it, in one step. KEYS[1] key, ARGV[1] now. */
const TAKE_SCRIPT = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf')
redis.call('DEL', KEYS[1])
return ids`;

/**
 * A `LogoutIndex` all app instances share, kept in Redis: a back-channel
 * logout that reaches any instance finds the sessions created on every
 * instance, and a logout token's `jti` is accepted once across all of them
 * (`SET NX EX`). Each key is written on its own, so it works with Redis
 * Cluster too.
 *
 * A Redis call that fails or outlasts `timeout` rejects with
 * `ERR_SESSION_STORE_UNAVAILABLE` (503).
 *
 * @example
 * ```ts
 * import { auth, RedisLogoutIndex } from 'express-oidc';
 * app.use(auth({ backchannelLogout: { index: new RedisLogoutIndex(redis) }, session: { store } }));
 * ```
 */
export class RedisLogoutIndex implements LogoutIndex {
  readonly #client: RedisClientLike;
  readonly #prefix: string;
  readonly #timeout: number;

  /** `prefix` defaults to `'oidc:logout:'`, `timeout` to 2000 ms. */
  constructor(client: RedisClientLike, options: RedisHelperOptions = {}) {
    this.#client = client;
    this.#prefix = options.prefix ?? 'oidc:logout:';
    this.#timeout = options.timeout ?? DEFAULT_REDIS_TIMEOUT;
  }

  async add(keys: string[], sessionId: string, ttlSeconds: number): Promise<void> {
    const now = Date.now();
    const expires = now + Math.max(1, Math.ceil(ttlSeconds)) * 1000;
    await Promise.all(
      keys.map((key) =>
        withTimeout(
          () => this.#client.eval(ADD_SCRIPT, { keys: [`${this.#prefix}key:${key}`], arguments: [sessionId, String(expires), String(now)] }),
          this.#timeout,
          'logout index',
        ),
      ),
    );
  }

  async take(key: string): Promise<string[]> {
    const ids = await withTimeout(
      () => this.#client.eval(TAKE_SCRIPT, { keys: [`${this.#prefix}key:${key}`], arguments: [String(Date.now())] }),
      this.#timeout,
      'logout index',
    );
    return Array.isArray(ids) ? ids.map(String) : [];
  }

  async claimOnce(id: string, ttlSeconds: number): Promise<boolean> {
    const reply = await withTimeout(
      () => this.#client.set(`${this.#prefix}seen:${id}`, '1', { expiration: { type: 'EX', value: Math.max(1, Math.ceil(ttlSeconds)) }, condition: 'NX' }),
      this.#timeout,
      'logout index',
    );
    return reply === 'OK';
  }
}
