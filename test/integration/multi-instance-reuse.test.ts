/**
 * The one fault only the OP can repair: an instance killed after the OP
 * rotated the refresh token and before the instance read the answer. The
 * store still holds the rotated token, and the next refresh presents it
 * again. With the OP's reuse interval (Auth0's "Reuse Interval"; here the
 * test OP's `refreshTokenReuseInterval`) longer than the lock lifetime plus
 * one OP call, that second presentation is accepted and the session goes on.
 */
import { refreshLockTtlMs } from '../../src/refresh/index.js';
import { reservePort } from '../helpers/app.js';
import type { Browser } from '../helpers/browser.js';
import { getJson, signInOn, sleepUntil, startInstanceProcess, startInstances, type InstanceProcess, type Instances } from '../helpers/instances.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { tokenRoutes } from '../helpers/refresh-app.js';

const STORE_TIMEOUT = 500;
const HTTP_TIMEOUT = 1_000;
const AUTH = { session: { storeTimeout: STORE_TIMEOUT }, httpTimeout: HTTP_TIMEOUT, refreshDeadline: 4_000 };
const LOCK_TTL = refreshLockTtlMs({ session: { storeTimeout: STORE_TIMEOUT } });
/** seconds: above the lock lifetime plus one OP call, as docs/many-instances-faults.md advises */
const REUSE_INTERVAL = Math.ceil((LOCK_TTL + HTTP_TIMEOUT) / 1000) + 2;

let redis: RedisServer;
let setup: Instances;
let child: InstanceProcess;

beforeAll(async () => {
  redis = await startRedis();
  // Held until the child starts: the instances started meanwhile must not be given it.
  const { port: childPort, release: releaseChildPort } = await reservePort();
  setup = await startInstances(redis, {
    app: AUTH,
    op: { accessTokenTTL: 4, refreshTokenReuseInterval: REUSE_INTERVAL },
    extraAppURLs: [`http://127.0.0.1:${childPort}`],
    routes: tokenRoutes,
  });
  await releaseChildPort();
  child = await startInstanceProcess(redis, setup.op.issuer, childPort, AUTH);
}, 40_000);
afterAll(async () => {
  await child?.kill();
  await setup?.close();
  await redis?.stop();
});

test('an instance killed after the OP rotated the token: the reuse inside the interval is accepted, the session kept', async () => {
  const browser: Browser = await signInOn(setup.op, setup.a);
  const first = await getJson(browser, `${setup.a.url}/token`);
  setup.op.resetCounts();
  await sleepUntil(Math.floor(Date.now() / 1000) + Number(first.body?.expires_in));

  child.setFault('hold-after');
  const doomed = getJson(browser, `${child.url}/token`).catch(() => undefined);
  // The OP has rotated the refresh token; the child dies before it reads the answer.
  await child.held();
  await child.kill();
  await doomed;
  expect(setup.op.counts.token.refresh_token).toBe(1);

  const started = Date.now();
  const res = await getJson(browser, `${setup.b.url}/token`);
  expect(Date.now() - started).toBeLessThan(LOCK_TTL + 1_500);
  expect(res.status).toBe(200);
  // B presented the refresh token the child had redeemed: accepted only thanks to the interval.
  expect(setup.op.counts.reusedInInterval).toBe(1);
  // The session goes on: its next refreshes, on both instances, are ordinary ones.
  for (const instance of [setup.a, setup.b]) {
    expect((await browser.post(`${instance.url}/refresh`, {}, { headers: { accept: 'application/json' } })).status).toBe(200);
  }
  expect(setup.op.counts.reusedInInterval).toBe(1);
}, 30_000);
