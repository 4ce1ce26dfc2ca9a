/**
 * Which refresh lock and logout index an app gets from its session store: a
 * connect-redis store on node-redis gives Redis ones (an explicit option
 * wins); any other shared store warns once, naming the options to set.
 */
import { inspect } from 'node:util';
import { RedisStore } from 'connect-redis';
import session from 'express-session';
import memorystore from 'memorystore';
import { createClient } from 'redis';
import { auth, MemoryLogoutIndex, MemoryRefreshLock, MemoryStore, RedisLogoutIndex, RedisRefreshLock, type AuthOptions } from '../../src/index.js';
import { getConfig } from '../../src/config/index.js';
import { withSharedState } from '../../src/shared-state.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

const VALID: AuthOptions = {
  issuerBaseURL: 'https://tenant.example.com',
  baseURL: 'https://app.example.com',
  clientID: 'client-1',
  clientSecret: 'client-secret',
  secret: 'a-secret-that-is-at-least-32-characters-long',
};

let redis: RedisServer;
let client: ReturnType<typeof createClient>;
beforeAll(async () => {
  redis = await startRedis();
  client = createClient({ url: redis.url });
  client.on('error', () => {});
  await client.connect();
});
afterAll(async () => {
  client?.destroy();
  await redis?.stop();
});

function shared(options: AuthOptions): { config: ReturnType<typeof withSharedState>; warnings: string[] } {
  const warnings: string[] = [];
  return { config: withSharedState(getConfig({ ...VALID, ...options }, {}), (m) => warnings.push(m)), warnings };
}

test('a connect-redis store gives a RedisRefreshLock and a RedisLogoutIndex on its client, and no warning', async () => {
  const { config, warnings } = shared({ session: { store: new RedisStore({ client }) }, backchannelLogout: true });
  expect(config.refreshLock).toBeInstanceOf(RedisRefreshLock);
  expect(config.backchannelLogout && config.backchannelLogout.index).toBeInstanceOf(RedisLogoutIndex);
  expect(warnings).toEqual([]);
  // they work on that client
  const release = await config.refreshLock?.acquire('probe', 5_000);
  expect(release).not.toBeNull();
  expect(await redis.command('EXISTS', 'oidc:lock:probe')).toBe(1);
  await release?.();
  expect(await redis.command('EXISTS', 'oidc:lock:probe')).toBe(0);
});

test('an explicit refreshLock and index win', () => {
  const refreshLock = new MemoryRefreshLock();
  const index = new MemoryLogoutIndex();
  const { config } = shared({ session: { store: new RedisStore({ client }) }, refreshLock, backchannelLogout: { index } });
  expect(config.refreshLock).toBe(refreshLock);
  expect(config.backchannelLogout && config.backchannelLogout.index).toBe(index);
});

test("backchannelLogout.store (express-openid-connect's option) with a Redis store keeps the index on that store's client", () => {
  const { config } = shared({ backchannelLogout: { store: new RedisStore({ client }) } });
  expect(config.backchannelLogout && config.backchannelLogout.index).toBeInstanceOf(RedisLogoutIndex);
});

test('backchannelLogout.store that is not a Redis store is refused, saying what to use instead', () => {
  expect(() => shared({ backchannelLogout: { store: new session.MemoryStore() } })).toThrow(/"backchannelLogout.store".*backchannelLogout.index/);
});

test('another shared store warns once, naming the options and why; the in-process stores do not', () => {
  const MemoryStoreFactory = memorystore(auth as never);
  const store = new MemoryStoreFactory({});
  const first = shared({ session: { store }, backchannelLogout: true });
  expect(first.config.refreshLock).toBeUndefined();
  expect(first.warnings).toHaveLength(1);
  expect(first.warnings[0]).toMatch(/set refreshLock \(e\.g\. new RedisRefreshLock\(redis\)\).*redeem its refresh token twice.*backchannelLogout\.index/);
  expect(first.warnings[0]).toMatch(/refreshLock: new MemoryRefreshLock\(\) and backchannelLogout\.index: new MemoryLogoutIndex\(\)/);
  // the same store again: no second line
  expect(shared({ session: { store } }).warnings).toEqual([]);
  expect(shared({ session: { store: new MemoryStore() } }).warnings).toEqual([]);
  expect(shared({ session: { store: new session.MemoryStore() } }).warnings).toEqual([]);
  expect(shared({}).warnings).toEqual([]);
});

test('the explicit opt-out for a single instance silences the warning', () => {
  const store = new (memorystore(auth as never))({});
  expect(shared({ session: { store }, refreshLock: new MemoryRefreshLock() }).warnings).toEqual([]);
});

test('a client that is not node-redis (ioredis-shaped: other set/eval signatures) is not used', () => {
  const ioredisLike = { set: async () => 'OK', eval: async () => 1, status: 'ready' };
  const store = new RedisStore({ client: ioredisLike });
  const { config, warnings } = shared({ session: { store } });
  expect(config.refreshLock).toBeUndefined();
  expect(warnings).toHaveLength(1);
});

test('auth() uses the derived lock', () => {
  const middleware = auth({ ...VALID, session: { store: new RedisStore({ client }) } });
  expect(middleware.config.refreshLock).toBeInstanceOf(RedisRefreshLock);
});

test('auth.Store is express-session\'s Store, so store factories written for express-openid-connect work', () => {
  expect(auth.Store).toBe(session.Store);
  const Factory = memorystore(auth as never);
  expect(new Factory({})).toBeInstanceOf(session.Store);
});

test('a config given the Redis lock and index still prints no secret', () => {
  const { config } = shared({ session: { store: new RedisStore({ client }) }, backchannelLogout: true });
  expect(config.refreshLock).toBeInstanceOf(RedisRefreshLock);
  for (const printed of [inspect(config, { depth: 4 }), JSON.stringify(config)]) {
    expect(printed).not.toContain(VALID.secret);
    expect(printed).not.toContain(`'${VALID.clientSecret}'`);
    expect(printed).not.toContain(`"${VALID.clientSecret}"`);
    expect(printed).toContain('[redacted]');
  }
});
