/**
 * Redis goes away under two instances: requests that need the session get a
 * 503 `ERR_SESSION_STORE_UNAVAILABLE` from the error handler (not a redirect
 * to login, not a hang, not a crash), anonymous requests go on, and when
 * Redis is back the same sessions work again.
 *
 * Instance A's Redis client has the recommended settings (no offline queue:
 * commands fail at once while disconnected); instance B's keeps node-redis's
 * default offline queue, so its commands wait and the store timeout answers.
 *
 * Two kinds of outage: the server shut down (connections refused; it takes a
 * snapshot as it stops and loads it when started again on the same port, as
 * a Redis with persistence would) and the server frozen (SIGSTOP: the
 * connection stays open, nothing answers).
 */
import { Browser } from '../helpers/browser.js';
import { getJson, RECOMMENDED_CLIENT, sessionIdOf, signInOn, sleep, startInstances, type Instance, type Instances } from '../helpers/instances.js';
import { USERS } from '../helpers/op.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

const STORE_TIMEOUT = 500;

let redis: RedisServer;
let setup: Instances;
let a: Instance;
let b: Instance;

beforeAll(async () => {
  redis = await startRedis();
  setup = await startInstances(redis, {
    app: { session: { storeTimeout: STORE_TIMEOUT } },
    client: {
      A: RECOMMENDED_CLIENT,
      B: { socket: { reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 500) } },
    },
  });
  ({ a, b } = setup);
});
afterAll(async () => {
  await setup?.close();
  await redis?.stop();
});

/** A page load by a browser, not following redirects: an outage must not send it to login. */
async function pageLoad(browser: Browser, instance: Instance, path: string): Promise<{ status: number; location: string | null; body: string }> {
  const res = await browser.get(`${instance.url}${path}`, { follow: false });
  return { status: res.status, location: res.headers.get('location'), body: res.body };
}

async function expectUnavailable(browser: Browser): Promise<void> {
  for (const instance of [a, b]) {
    for (const path of ['/profile', '/']) {
      const res = await pageLoad(browser, instance, path);
      expect({ instance: instance.name, path, status: res.status, location: res.location }).toEqual({ instance: instance.name, path, status: 503, location: null });
      expect(JSON.parse(res.body)).toEqual(expect.objectContaining({ code: 'ERR_SESSION_STORE_UNAVAILABLE' }));
    }
    // anonymous requests do not need the store
    const anonymous = await getJson(new Browser(), `${instance.url}/`);
    expect(anonymous).toEqual(expect.objectContaining({ status: 200, body: { authenticated: false, user: null } }));
  }
}

/** Polls (bounded) until the session answers on both instances again. */
async function expectBack(browser: Browser): Promise<void> {
  for (const instance of [a, b]) {
    let last: Awaited<ReturnType<typeof getJson>> | undefined;
    for (let i = 0; i < 100; i += 1) {
      last = await getJson(browser, `${instance.url}/profile`);
      if (last.status === 200) break;
      await sleep(100);
    }
    expect({ instance: instance.name, status: last?.status }).toEqual({ instance: instance.name, status: 200 });
    expect((last?.body?.user as { sub?: string } | undefined)?.sub).toBe(USERS.alice.sub);
  }
}

test('Redis shut down: 503s on both instances; started again: the same session works', async () => {
  const browser = await signInOn(setup.op, a);
  const sid = sessionIdOf(browser);
  expect((await getJson(browser, `${b.url}/profile`)).status).toBe(200);

  await redis.shutdown();
  await expectUnavailable(browser);
  // nothing cleared the session cookie
  expect(sessionIdOf(browser)).toBe(sid);

  await redis.start();
  await expectBack(browser);
  expect(sessionIdOf(browser)).toBe(sid);
  // the instances' clients reported the outage through their 'error' listeners instead of crashing
  expect(a.redisErrors.length).toBeGreaterThan(0);
  expect(b.redisErrors.length).toBeGreaterThan(0);
});

test('Redis frozen: 503s after the store timeout instead of a hang; thawed: the same session works', async () => {
  const browser = await signInOn(setup.op, b);
  const sid = sessionIdOf(browser);

  redis.pause();
  try {
    await expectUnavailable(browser);
  } finally {
    redis.resume();
  }
  await expectBack(browser);
  expect(sessionIdOf(browser)).toBe(sid);
});

test('a login while Redis is down fails with 503 and leaves no half-made session', async () => {
  const sessionCount = () => redis.command('EVAL', "return #redis.call('KEYS', 'sess:*')", '0');
  const before = await sessionCount();
  const browser = new Browser();
  await redis.shutdown();
  let landed;
  try {
    landed = await setup.op.signIn(browser, `${a.url}/login`);
  } finally {
    await redis.start();
  }
  expect(landed.status).toBe(503);
  expect(JSON.parse(landed.body)).toEqual(expect.objectContaining({ code: 'ERR_SESSION_STORE_UNAVAILABLE' }));
  expect(await sessionCount()).toBe(before);
  // back up, the browser is simply not signed in, and can sign in
  let home: Awaited<ReturnType<typeof getJson>> | undefined;
  for (let i = 0; i < 100 && home?.status !== 200; i += 1) {
    if (i > 0) await sleep(100);
    home = await getJson(browser, `${a.url}/`);
  }
  expect(home?.body).toEqual({ authenticated: false, user: null });
  await signInOn(setup.op, a, browser);
  expect((await getJson(browser, `${b.url}/profile`)).status).toBe(200);
});
