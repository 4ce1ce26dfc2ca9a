import { randomBytes } from 'node:crypto';
import { debug } from '../debug.js';
import { DEFAULT_REDIS_TIMEOUT, withTimeout, type RedisClientLike, type RedisHelperOptions } from '../redis-client.js';
import type { RefreshFailure, RefreshLock, ReleaseLock } from './lock.js';

const log = debug('refresh');

/** Deletes the lock only if it still holds the holder's token: an expired lock taken over by another holder stays. */
const RELEASE_SCRIPT = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";
/** Extends the lock only while it still holds the holder's token. */
const EXTEND_SCRIPT = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";
/** Sets the failure marker (a plain `SET PX`, through EVAL because `RedisClientLike` has no other write). */
const MARK_SCRIPT = "return redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])";
const READ_SCRIPT = "return redis.call('GET', KEYS[1])";

/**
 * A `RefreshLock` every app instance sees, kept in Redis: one instance at a
 * time redeems a session's refresh token, the others wait and pick up the new
 * tokens from the session store. The lock is `SET key token NX PX ttl`, so a
 * holder that dies frees it after `ttl`; releasing deletes it only while it
 * still carries the holder's own random token.
 *
 * The holder extends the lock while it works (`extend`), so the lifetime it
 * asks for can be short: a holder that dies blocks the session only until
 * the lock expires. A failed refresh leaves a short-lived marker next to the
 * lock (`<prefix><key>:failed`), so waiters on other instances fail fast
 * instead of calling a failing OP again.
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
  /** Its `ReleaseLock`s can `extend`. */
  readonly extendable = true;

  /** `prefix` defaults to `'oidc:lock:'`, `timeout` to 2000 ms. */
  constructor(client: RedisClientLike, options: RedisHelperOptions = {}) {
    this.#client = client;
    this.#prefix = options.prefix ?? 'oidc:lock:';
    this.#timeout = options.timeout ?? DEFAULT_REDIS_TIMEOUT;
  }

  /** `SET key token NX PX ttl`; the release function it returns can also `extend` the lock while held. */
  async acquire(key: string, ttlMs: number): Promise<ReleaseLock | null> {
    const redisKey = this.#prefix + key;
    const token = randomBytes(16).toString('hex');
    const ttl = Math.max(1, Math.ceil(ttlMs));
    const release: ReleaseLock = async () => {
      await withTimeout(() => this.#client.eval(RELEASE_SCRIPT, { keys: [redisKey], arguments: [token] }), this.#timeout, 'refresh lock release');
    };
    release.extend = async (ms: number) => {
      const more = String(Math.max(1, Math.ceil(ms)));
      const extended = await withTimeout(() => this.#client.eval(EXTEND_SCRIPT, { keys: [redisKey], arguments: [token, more] }), this.#timeout, 'refresh lock extension');
      return Number(extended) === 1;
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

  /** Sets the failure marker `<prefix><key>:failed` for `ttlMs` (a 503 when Redis fails or is slow). */
  async markFailed(key: string, failure: RefreshFailure, ttlMs: number): Promise<void> {
    const value = JSON.stringify({ at: failure.at, retryAfter: failure.retryAfter, code: failure.code });
    const ttl = String(Math.max(1, Math.ceil(ttlMs)));
    await withTimeout(() => this.#client.eval(MARK_SCRIPT, { keys: [this.#failureKey(key)], arguments: [value, ttl] }), this.#timeout, 'refresh failure marker');
  }

  /** The failure marker of `key` while it lasts; null when there is none (or it is not one of ours). */
  async failure(key: string): Promise<RefreshFailure | null> {
    const value = await withTimeout(() => this.#client.eval(READ_SCRIPT, { keys: [this.#failureKey(key)], arguments: [] }), this.#timeout, 'refresh failure marker');
    return parseFailure(value);
  }

  #failureKey(key: string): string {
    return `${this.#prefix}${key}:failed`;
  }
}

/** The stored marker, or null when absent or not of the expected shape. */
function parseFailure(value: unknown): RefreshFailure | null {
  if (typeof value !== 'string') return null;
  try {
    const parsed = JSON.parse(value) as Partial<RefreshFailure>;
    if (typeof parsed.at !== 'number' || typeof parsed.retryAfter !== 'number' || typeof parsed.code !== 'string') return null;
    return { at: parsed.at, retryAfter: parsed.retryAfter, code: parsed.code };
  } catch {
    return null;
  }
}
