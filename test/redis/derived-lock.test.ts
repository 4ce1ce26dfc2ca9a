/**
 * The multi-instance setup an app moving over has: two instances sharing a
 * connect-redis 9 store, and no option but `session.store` (no refreshLock,
 * no logout index). The refresh lock and the logout index are derived from
 * the store's node-redis client, on a single redis-server and on a 3-node
 * Redis Cluster. The OP rotates refresh tokens and revokes the grant on reuse,
 * so a second redemption would sign the user out.
 *
 * The second instance loads the library in a module registry of its own, so
 * it shares no in-process state (the process-wide refresh lock) with the
 * first: as two processes would.
 */
import { jest } from '@jest/globals';
import { RedisStore } from 'connect-redis';
import { createClient, createCluster } from 'redis';
import { RedisRefreshLock } from '../../src/index.js';
import { Browser } from '../helpers/browser.js';
import { freePort, startApp, type TestApp } from '../helpers/app.js';
import { clientsFor } from '../helpers/flow.js';
import { sessionIdOf, sleepUntil } from '../helpers/instances.js';
import { createTestOP, USERS, type TestOP } from '../helpers/op.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { startRedisCluster, type RedisCluster } from '../helpers/redis-cluster.js';
import type { OidcSession } from '../../src/session/data.js';

type Client = { destroy(): void; get(key: string): Promise<string | null> };

interface Setup {
  op: TestOP;
  apps: TestApp[];
  clients: Client[];
  close(): Promise<void>;
}

const JSON_ACCEPT = { headers: { accept: 'application/json' } };

/** `startApp` of a fresh copy of the library: no module state shared with the test's own copy. */
async function isolatedStartApp(): Promise<typeof startApp> {
  let isolated: typeof startApp | undefined;
  await jest.isolateModulesAsync(async () => {
    isolated = (await import('../helpers/app.js')).startApp;
  });
  if (isolated === undefined || isolated === startApp) throw new Error('the library was not loaded again');
  return isolated;
}

/** Two instances, each with its own Redis client and store; `session.store` is their only multi-instance option. */
async function twoInstances(connect: () => Promise<Client>): Promise<Setup> {
  const ports = [await freePort(), await freePort()];
  const op = await createTestOP({ appBaseURL: `http://127.0.0.1:${ports[0]}`, clients: clientsFor(ports.map((p) => `http://127.0.0.1:${p}`)), accessTokenTTL: 6, rotateRefreshTokens: true });
  const clients: Client[] = [];
  const apps: TestApp[] = [];
  const starts = [startApp, await isolatedStartApp()];
  for (const [i, port] of ports.entries()) {
    const client = await connect();
    clients.push(client);
    apps.push(await (starts[i] as typeof startApp)(op.issuer, port, { session: { store: new RedisStore({ client }) } }));
  }
  return {
    op,
    apps,
    clients,
    close: async () => {
      for (const app of apps) await app.close();
      for (const client of clients) client.destroy();
      await op.stop();
    },
  };
}

async function fiftyAtExpiry(setup: Setup): Promise<void> {
  const [a, b] = setup.apps as [TestApp, TestApp];
  // each instance's own copy of the class
  for (const app of setup.apps) expect(app.middleware.config.refreshLock?.constructor.name).toBe('RedisRefreshLock');
  const browser = new Browser();
  const landed = await setup.op.signIn(browser, `${b.url}/login`);
  expect(landed.status).toBe(200);
  const stored = async (): Promise<OidcSession | undefined> => {
    const raw = await (setup.clients[0] as Client).get(`sess:${sessionIdOf(browser)}`);
    return raw === null ? undefined : (JSON.parse(raw) as { oidc?: OidcSession }).oidc;
  };
  const before = await stored();
  if (before?.expires_at === undefined || before.issued_at === undefined) throw new Error('no token expiry stored');
  // due for a refresh (the leeway is capped at half the token's lifetime), before it expires
  await sleepUntil(before.expires_at - Math.floor((before.expires_at - before.issued_at) / 2));
  setup.op.resetCounts();

  const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => browser.get(`${(i % 2 === 0 ? a : b).url}/token`, JSON_ACCEPT)));

  expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200));
  expect(setup.op.counts.token.refresh_token).toBe(1);
  const tokens = new Set(responses.map((r) => (JSON.parse(r.body) as { access_token: string }).access_token));
  expect(tokens.size).toBe(1);
  const after = await stored();
  expect(after?.access_token).toBe([...tokens][0]);
  expect(after?.refresh_token).not.toBe(before.refresh_token);
  // the session is alive on both instances, and its refresh token is the live one
  for (const app of [a, b]) {
    const profile = await browser.get(`${app.url}/profile`, { ...JSON_ACCEPT, follow: false });
    expect(profile.status).toBe(200);
    expect((JSON.parse(profile.body) as { user: { sub: string } }).user.sub).toBe(USERS.alice.sub);
  }
}

describe('one redis-server', () => {
  let redis: RedisServer;
  let setup: Setup;
  beforeAll(async () => {
    redis = await startRedis();
    setup = await twoInstances(async () => {
      const client = createClient({ url: redis.url, disableOfflineQueue: true });
      client.on('error', () => {});
      await client.connect();
      return client as unknown as Client;
    });
  }, 60_000);
  afterAll(async () => {
    await setup?.close();
    await redis?.stop();
  });

  test('50 concurrent requests at expiry on two instances: exactly 1 refresh grant, the session alive', async () => {
    await fiftyAtExpiry(setup);
  }, 60_000);
});

describe('a 3-node Redis Cluster', () => {
  let cluster: RedisCluster;
  let setup: Setup;
  beforeAll(async () => {
    cluster = await startRedisCluster();
    setup = await twoInstances(async () => {
      const client = createCluster({ rootNodes: cluster.rootNodes });
      client.on('error', () => {});
      await client.connect();
      return client as unknown as Client;
    });
  }, 90_000);
  afterAll(async () => {
    await setup?.close();
    await cluster?.stop();
  });

  test('50 concurrent requests at expiry on two instances: exactly 1 refresh grant, the session alive', async () => {
    await fiftyAtExpiry(setup);
  }, 60_000);

  test("RedisRefreshLock's keys work on the cluster: one key per command, held and released across the slots of every node", async () => {
    const client = createCluster({ rootNodes: cluster.rootNodes });
    client.on('error', () => {});
    await client.connect();
    try {
      const lock = new RedisRefreshLock(client as never);
      const other = new RedisRefreshLock(client as never);
      const keys = Array.from({ length: 24 }, (_, i) => `refresh:session-${i}`);
      const slots = new Set<string>();
      for (const key of keys) slots.add((await cluster.command('CLUSTER', 'KEYSLOT', `oidc:lock:${key}`)).replace(/\D/g, ''));
      expect(slots.size).toBeGreaterThan(3);
      const releases = await Promise.all(keys.map((key) => lock.acquire(key, 10_000)));
      expect(releases.every((release) => release !== null)).toBe(true);
      expect(await Promise.all(keys.map((key) => other.acquire(key, 10_000)))).toEqual(keys.map(() => null));
      await Promise.all(releases.map((release) => release?.()));
      expect(await cluster.command('EXISTS', `oidc:lock:${keys[0]}`)).toBe('0');
      const again = await Promise.all(keys.map((key) => other.acquire(key, 10_000)));
      expect(again.every((release) => release !== null)).toBe(true);
      await Promise.all(again.map((release) => release?.()));
    } finally {
      client.destroy();
    }
  }, 60_000);
});
