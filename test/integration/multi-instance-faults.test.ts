/**
 * Faults during a refresh, with real parts: two instances (A, B) on one real
 * redis-server (connect-redis store, RedisRefreshLock), a third instance in a
 * child process that can be killed, and the test OP with refresh-token
 * rotation and reuse detection (a second use of a refresh token revokes the
 * grant). OP faults (503, a hang, an answer held back) are injected at the
 * app's side of the network (`op-faults.ts`); the OP itself is real.
 *
 * Every test checks that no refresh token was presented twice and that the
 * sessions still work afterwards on every instance. Timing: 4-second access
 * tokens (due after 2 s), `storeTimeout` 500 ms (so the lock lives 2 s between
 * extensions), `httpTimeout` 1000 ms, `refreshDeadline` 4000 ms.
 */
import { refreshLockTtlMs, REFRESH_FAILURE_BACKOFF_MS } from '../../src/refresh/index.js';
import { reservePort } from '../helpers/app.js';
import type { Browser } from '../helpers/browser.js';
import { tokenRoutes } from '../helpers/refresh-app.js';
import {
  JSON_ACCEPT,
  getJson,
  signInOn,
  sleep,
  sleepUntil,
  startInstanceProcess,
  startInstances,
  type Instance,
  type InstanceProcess,
  type Instances,
} from '../helpers/instances.js';
import { injectOpFaults, type OpFaults } from '../helpers/op-faults.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

const STORE_TIMEOUT = 500;
const HTTP_TIMEOUT = 1_000;
const DEADLINE = 4_000;
const AUTH = { session: { storeTimeout: STORE_TIMEOUT }, httpTimeout: HTTP_TIMEOUT, refreshDeadline: DEADLINE };
const LOCK_TTL = refreshLockTtlMs({ session: { storeTimeout: STORE_TIMEOUT } });

let redis: RedisServer;
let setup: Instances;
let a: Instance;
let b: Instance;
let child: InstanceProcess;
let faults: OpFaults;

beforeAll(async () => {
  redis = await startRedis();
  // Held until the child starts: the instances started meanwhile must not be given it.
  const { port: childPort, release: releaseChildPort } = await reservePort();
  setup = await startInstances(redis, { app: AUTH, op: { accessTokenTTL: 4 }, extraAppURLs: [`http://127.0.0.1:${childPort}`], routes: tokenRoutes });
  ({ a, b } = setup);
  faults = injectOpFaults(setup.op.issuer);
  await releaseChildPort();
  child = await startInstanceProcess(redis, setup.op.issuer, childPort, AUTH);
}, 40_000);
afterAll(async () => {
  faults?.restore();
  await child?.kill();
  await setup?.close();
  await redis?.stop();
});
/** Faults still under way when a test fails (Redis must be back before the next test or afterAll). */
const cleanups: Array<() => Promise<void> | undefined> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  faults.fault = 'none';
  faults.afterToken = undefined;
  faults.releaseHeld();
});

/** The refresh tokens the OP was shown more than once (must stay empty: a second use revokes the grant). */
function presentedTwice(): string[] {
  const seen = new Map<string, number>();
  for (const request of setup.op.tokenRequests) {
    if (request.grantType !== 'refresh_token') continue;
    const token = String(request.params.refresh_token);
    seen.set(token, (seen.get(token) ?? 0) + 1);
  }
  return [...seen.entries()].filter(([, n]) => n > 1).map(([token]) => `${token.slice(0, 6)}… ×${seen.get(token)}`);
}

/** Signs in `count` sessions through A. */
async function signInMany(count: number): Promise<Browser[]> {
  const browsers: Browser[] = [];
  for (let i = 0; i < count; i += 1) browsers.push(await signInOn(setup.op, a));
  return browsers;
}

/** Epoch seconds at which the browser's current access token expires, read through /token's expires_in. */
async function expiresAt(browser: Browser, instance: Instance): Promise<number> {
  let res = await getJson(browser, `${instance.url}/token`);
  // Just after an outage the instance's Redis client may still be reconnecting.
  for (let i = 0; i < 40 && res.status !== 200; i += 1) {
    await sleep(100);
    res = await getJson(browser, `${instance.url}/token`);
  }
  if (res.status !== 200) throw new Error(`/token answered ${res.status} ${JSON.stringify(res.body)}`);
  return Math.floor(Date.now() / 1000) + Number(res.body?.expires_in);
}

/** Polls (bounded) until the session answers /token with 200 on `url`; returns the last status. */
async function eventually200(browser: Browser, url: string, tries = 40): Promise<number> {
  let status = 0;
  for (let i = 0; i < tries; i += 1) {
    status = (await getJson(browser, `${url}/token`)).status;
    if (status === 200) return status;
    await sleep(100);
  }
  return status;
}

/** POST /refresh (a forced refresh), retried (bounded) while the instance's Redis client reconnects. */
async function refreshed(browser: Browser, instance: Instance): Promise<number> {
  let status = 0;
  for (let i = 0; i < 40; i += 1) {
    status = (await browser.post(`${instance.url}/refresh`, {}, JSON_ACCEPT)).status;
    if (status !== 503) return status;
    await sleep(100);
  }
  return status;
}

/**
 * Every session is still signed in: each redeems the refresh token the store
 * holds, on B and then on A, and nothing was presented twice.
 */
async function expectSessionsKept(browsers: Browser[]): Promise<void> {
  for (const instance of [b, a]) {
    const answers = await Promise.all(browsers.map((browser) => refreshed(browser, instance)));
    expect({ instance: instance.name, answers }).toEqual({ instance: instance.name, answers: browsers.map(() => 200) });
  }
  expect(presentedTwice()).toEqual([]);
}

test('Redis shut down (persisting) right after a redemption, started again: the rotated tokens land, no session lost', async () => {
  const browsers = await signInMany(2);
  setup.op.resetCounts();
  let restarted: Promise<void> | undefined;
  faults.afterToken = async (response) => {
    if (restarted !== undefined || !response.ok) return;
    // The OP rotated the refresh token; the app has not stored it yet.
    const down = redis.shutdown();
    restarted = down.then(() => sleep(1_000)).then(() => redis.start());
    await down;
  };
  cleanups.push(() => restarted);
  await sleepUntil(await expiresAt(browsers[0] as Browser, a));
  const during = await Promise.all(browsers.map((browser, i) => getJson(browser, `${(i % 2 === 0 ? a : b).url}/token`)));
  expect(restarted).toBeDefined();
  // Served with the unstored tokens or a 503 while Redis is away: never signed out.
  await restarted;
  for (const res of during) expect([200, 503]).toContain(res.status);
  faults.afterToken = undefined;
  await expectSessionsKept(browsers);
}, 30_000);

test('Redis frozen (SIGSTOP) right after a redemption, past the lock lifetime: the write is retried when it thaws', async () => {
  const [browser] = await signInMany(1);
  setup.op.resetCounts();
  let thawed: Promise<void> | undefined;
  faults.afterToken = async (response) => {
    if (thawed !== undefined || !response.ok) return;
    redis.pause();
    thawed = sleep(LOCK_TTL + 1_000).then(() => redis.resume());
  };
  cleanups.push(() => thawed);
  await sleepUntil(await expiresAt(browser as Browser, a));
  const started = Date.now();
  const res = await getJson(browser as Browser, `${a.url}/token`);
  // The request is answered within its deadline (the store's timeouts bound each call).
  expect(Date.now() - started).toBeLessThan(DEADLINE + 1_000);
  expect([200, 503]).toContain(res.status);
  await thawed;
  faults.afterToken = undefined;
  await expectSessionsKept([browser as Browser]);
}, 30_000);

test('an instance killed (SIGKILL) while it holds the refresh lock blocks the session only for the lock lifetime', async () => {
  const [browser] = await signInMany(1);
  setup.op.resetCounts();
  await sleepUntil(await expiresAt(browser as Browser, a));
  child.setFault('hold-before');
  // The child takes the lock and is stopped before its call reaches the OP.
  const doomed = getJson(browser as Browser, `${child.url}/token`).catch(() => undefined);
  await child.held();
  await child.kill();
  await doomed;
  const started = Date.now();
  const res = await getJson(browser as Browser, `${a.url}/token`);
  const took = Date.now() - started;
  expect(res.status).toBe(200);
  expect(took).toBeLessThan(LOCK_TTL + 1_500);
  expect(setup.op.counts.token.refresh_token).toBe(1);
  await expectSessionsKept([browser as Browser]);
}, 30_000);

test('an OP answering 503: one call for all waiting requests on both instances, each answered fast; later ones back off', async () => {
  const [browser] = await signInMany(1);
  await sleepUntil(await expiresAt(browser as Browser, a));
  setup.op.resetCounts();
  faults.fault = '503';
  const callsBefore = faults.calls;
  const started = Date.now();
  const burst = await Promise.all(Array.from({ length: 10 }, (_, i) => getJson(browser as Browser, `${(i % 2 === 0 ? a : b).url}/token`)));
  const took = Date.now() - started;
  expect(burst.map((res) => res.status)).toEqual(burst.map(() => expect.any(Number)));
  for (const res of burst) expect(res.status).toBeGreaterThanOrEqual(500);
  expect(faults.calls - callsBefore).toBe(1);
  expect(took).toBeLessThan(DEADLINE);
  // Within the backoff, no further call to the failing OP.
  const again = await getJson(browser as Browser, `${b.url}/token`);
  expect(again.status).toBe(503);
  expect(faults.calls - callsBefore).toBe(1);
  faults.fault = 'none';
  await sleep(REFRESH_FAILURE_BACKOFF_MS);
  expect(await eventually200(browser as Browser, b.url)).toBe(200);
  await expectSessionsKept([browser as Browser]);
}, 30_000);

test('an OP that hangs: every request is answered within refreshDeadline; one that need not wait for a new token is served', async () => {
  const [expired, due] = await signInMany(2);
  const expiredAt = await expiresAt(expired as Browser, a);
  const dueAt = await expiresAt(due as Browser, a);
  setup.op.resetCounts();
  faults.fault = 'hang';
  const callsBefore = faults.calls;
  // `due`'s token is due (inside the leeway) but has not expired; `expired`'s has.
  await sleepUntil(dueAt - 2);
  const dueStarted = Date.now();
  const dueAnswers = await Promise.all([a, b, a, b].map((instance) => getJson(due as Browser, `${instance.url}/token`)));
  expect(Date.now() - dueStarted).toBeLessThan(DEADLINE + 1_000);
  expect(dueAnswers.map((res) => res.status)).toEqual([200, 200, 200, 200]);

  await sleepUntil(expiredAt);
  const started = Date.now();
  const answers = await Promise.all([a, b, a, b, a, b].map((instance) => getJson(expired as Browser, `${instance.url}/token`)));
  const took = Date.now() - started;
  expect(took).toBeLessThan(DEADLINE + 1_000);
  for (const res of answers) expect([503, 504]).toContain(res.status);
  // One hanging call per session and backoff, not one per waiting request or instance.
  expect(faults.calls - callsBefore).toBeLessThanOrEqual(3);
  faults.fault = 'none';
  await sleep(REFRESH_FAILURE_BACKOFF_MS);
  await expectSessionsKept([expired as Browser, due as Browser]);
}, 40_000);
