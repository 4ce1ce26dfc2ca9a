/**
 * Tokens per API with two instances on one real redis-server (connect-redis,
 * RedisRefreshLock), against the test OP with rotation, reuse detection and
 * an Auth0-like Multi-Resource Refresh Token policy: one grant per session
 * and API across instances, and no refresh token presented twice when two
 * APIs' tokens (and the session's) expire together.
 */
import { decodeJwt } from 'jose';
import type { Browser } from '../helpers/browser.js';
import { getJson, signInOn, sleepUntil, startInstances, type Instance, type Instances } from '../helpers/instances.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { tokenRoutes } from '../helpers/refresh-app.js';

const ORDERS = 'https://orders.example.com';
const REPORTS = 'https://reports.example.com';

let redis: RedisServer;
let setup: Instances;

beforeAll(async () => {
  redis = await startRedis();
  setup = await startInstances(redis, { op: { accessTokenTTL: 6, multiResourceRefreshToken: [ORDERS, REPORTS] }, routes: tokenRoutes });
}, 30_000);
afterAll(async () => {
  await setup?.close();
  await redis?.stop();
});

const apiURL = (instance: Instance, audience: string) => `${instance.url}/api-token?audience=${encodeURIComponent(audience)}`;

function presentedTwice(): string[] {
  const seen = new Map<string, number>();
  for (const request of setup.op.tokenRequests) {
    if (request.grantType !== 'refresh_token') continue;
    const token = String(request.params.refresh_token);
    seen.set(token, (seen.get(token) ?? 0) + 1);
  }
  return [...seen].filter(([, n]) => n > 1).map(([t, n]) => `${t.slice(0, 6)}… ×${n}`);
}

const grantsFor = (audience: string) => setup.op.tokenRequests.filter((r) => r.grantType === 'refresh_token' && r.params.audience === audience).length;

test('30 concurrent requests on two instances for a second API: one grant, one token for all', async () => {
  const browser: Browser = await signInOn(setup.op, setup.a);
  setup.op.resetCounts();
  const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => getJson(browser, apiURL(i % 2 === 0 ? setup.a : setup.b, ORDERS))));
  expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
  const tokens = new Set(answers.map((a) => a.body?.access_token));
  expect(tokens.size).toBe(1);
  expect(decodeJwt(String([...tokens][0])).aud).toBe(ORDERS);
  expect(grantsFor(ORDERS)).toBe(1);
  // On a loaded machine the session's own short-lived token may come due meanwhile: that grant names no API.
  const others = setup.op.tokenRequests.filter((r) => r.grantType === 'refresh_token' && r.params.audience !== ORDERS);
  expect(others.map((r) => r.params.audience)).toEqual(others.map(() => undefined));
  expect(presentedTwice()).toEqual([]);
});

test('two APIs and the session token expiring together, asked on both instances: no refresh token presented twice', async () => {
  const browser: Browser = await signInOn(setup.op, setup.a);
  const orders = await getJson(browser, apiURL(setup.a, ORDERS));
  const reports = await getJson(browser, apiURL(setup.b, REPORTS));
  expect([orders.status, reports.status]).toEqual([200, 200]);
  setup.op.resetCounts();
  await sleepUntil(Math.max(Number(orders.body?.expires_at), Number(reports.body?.expires_at)));

  const urls = Array.from({ length: 24 }, (_, i) => {
    const instance = i % 2 === 0 ? setup.a : setup.b;
    return [apiURL(instance, ORDERS), apiURL(instance, REPORTS), `${instance.url}/token`][i % 3] as string;
  });
  const answers = await Promise.all(urls.map((url) => getJson(browser, url)));
  expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
  expect(grantsFor(ORDERS)).toBe(1);
  expect(grantsFor(REPORTS)).toBe(1);
  expect(setup.op.counts.token.refresh_token).toBe(3);
  expect(presentedTwice()).toEqual([]);
  // Every request for one API got the same token, whichever instance answered.
  for (const audience of [ORDERS, REPORTS]) {
    const values = new Set(answers.filter((_, i) => (urls[i] as string).includes(encodeURIComponent(audience))).map((a) => a.body?.access_token));
    expect(values.size).toBe(1);
  }
});
