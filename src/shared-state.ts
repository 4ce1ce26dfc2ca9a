/**
 * What instances sharing a session store must also share: the refresh lock
 * (else two instances redeem one refresh token at expiry, and an OP that
 * detects reuse revokes the grant) and the back-channel logout index (else a
 * logout reaching one instance misses sessions filed by another).
 *
 * When the session store is connect-redis on a node-redis client (a single
 * server or a cluster), both are derived from that client. For any other store
 * that is not in-process, start-up warns once, naming the options to set.
 */
import session from 'express-session';
import type { Store } from 'express-session';
import { hideConfigSecrets } from './config/index.js';
import type { Config } from './config/types.js';
import { OidcError } from './errors.js';
import { RedisRefreshLock } from './refresh/redis-lock.js';
import type { RedisClientLike } from './redis-client.js';
import { MemoryStore } from './session/memory-store.js';
import { RedisLogoutIndex } from './session/redis-logout-index.js';

/**
 * The node-redis (v4 without legacy mode, v5) client or cluster client of a
 * connect-redis store, or undefined. ioredis and legacy-mode clients answer
 * `set` and `eval` with other signatures, so they are not used.
 */
export function redisClientOf(store: Store | undefined): RedisClientLike | undefined {
  const client = (store as { client?: unknown } | undefined)?.client;
  if (typeof client !== 'object' || client === null) return undefined;
  const c = client as Record<string, unknown>;
  const nodeRedis = typeof c.set === 'function' && typeof c.eval === 'function' && typeof c.sendCommand === 'function' && 'isOpen' in c && !('v4' in c);
  return nodeRedis ? (client as RedisClientLike) : undefined;
}

/** Stores whose sessions live in this process, which other instances cannot share anyway. */
function inProcess(store: Store | undefined): boolean {
  return store === undefined || store instanceof MemoryStore || store instanceof session.MemoryStore;
}

/** Stores already warned about: one line per store, however many `auth()` use it. */
const warned = new WeakSet<object>();

/**
 * The config with `refreshLock` and `backchannelLogout.index` derived from the
 * session store's Redis client where the app set none. An explicit option
 * always wins. Throws `ERR_CONFIG_INVALID` for a `backchannelLogout.store`
 * that is not a Redis store.
 */
export function withSharedState(config: Config, warn: (message: string) => void = console.warn): Config {
  const store = config.session.store;
  const client = redisClientOf(store);
  const options = { timeout: config.session.storeTimeout };
  const bcl = config.backchannelLogout;

  let index = bcl === false ? undefined : bcl.index;
  if (bcl !== false && index === undefined && bcl.store !== undefined) {
    const logoutClient = redisClientOf(bcl.store);
    if (logoutClient === undefined) {
      throw new OidcError(
        'ERR_CONFIG_INVALID',
        'Invalid option "backchannelLogout.store": must be a connect-redis store on a node-redis client; for other stores set backchannelLogout.index (MemoryLogoutIndex, RedisLogoutIndex, or your own), or leave both out: sessions are destroyed in session.store',
        { status: 500 },
      );
    }
    index = new RedisLogoutIndex(logoutClient, options);
  }
  if (bcl !== false && index === undefined && client !== undefined) index = new RedisLogoutIndex(client, options);

  const refreshLock = config.refreshLock ?? (client === undefined ? undefined : new RedisRefreshLock(client, options));

  if (client === undefined && !inProcess(store) && store !== undefined && !warned.has(store)) {
    const needsLock = config.refreshLock === undefined;
    const needsIndex = bcl !== false && index === undefined;
    const missing = [
      ...(needsLock ? ['refreshLock (e.g. new RedisRefreshLock(redis)): else two instances refreshing one session at once redeem its refresh token twice, and an OP that detects reuse signs the user out'] : []),
      ...(needsIndex ? ['backchannelLogout.index (e.g. new RedisLogoutIndex(redis)): else a logout token reaching one instance misses the sessions another created'] : []),
    ];
    if (missing.length > 0) {
      warned.add(store);
      warn(
        `express-oidc: session.store is not a Redis store express-oidc can use, so refreshes are coordinated within this process only. If several instances share this store, set ${missing.join('; and ')}. For a single instance, say so and silence this warning with ${[...(needsLock ? ['refreshLock: new MemoryRefreshLock()'] : []), ...(needsIndex ? ['backchannelLogout.index: new MemoryLogoutIndex()'] : [])].join(' and ')}.`,
      );
    }
  }

  if (refreshLock === config.refreshLock && (bcl === false || index === bcl.index)) return config;
  const derived: Config = { ...config, refreshLock, backchannelLogout: bcl === false ? false : Object.freeze({ ...bcl, index }) };
  return Object.freeze(hideConfigSecrets(derived));
}
