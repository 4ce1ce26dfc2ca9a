/**
 * Rolling and absolute session lifetimes hold across two instances sharing
 * Redis: they are computed from the login time and last activity stored in
 * the session, so activity on one instance extends the session on the other,
 * and the absolute limit ends it on both.
 *
 * Transient cookies (no Max-Age) keep the browser from dropping the cookie
 * itself, so what ends the session here is the server-side check.
 */
import { Browser } from '../helpers/browser.js';
import { getJson, sessionIdOf, signInOn, sleepUntil, startInstances, type Instance, type Instances } from '../helpers/instances.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import type { OidcSession } from '../../src/session/data.js';

const ROLLING = 4;
const ABSOLUTE = 8;

let redis: RedisServer;
let setup: Instances;
let a: Instance;
let b: Instance;

beforeAll(async () => {
  redis = await startRedis();
  setup = await startInstances(redis, {
    app: { session: { rolling: true, rollingDuration: ROLLING, absoluteDuration: ABSOLUTE, cookie: { transient: true } } },
  });
  ({ a, b } = setup);
});
afterAll(async () => {
  await setup?.close();
  await redis?.stop();
});

async function stored(browser: Browser): Promise<OidcSession | undefined> {
  const raw = await redis.command('GET', `sess:${sessionIdOf(browser)}`);
  return typeof raw === 'string' ? (JSON.parse(raw) as { oidc?: OidcSession }).oidc : undefined;
}

const status = async (browser: Browser, instance: Instance) => (await getJson(browser, `${instance.url}/profile`)).status;

test('activity on B extends a session created on A; the absolute limit ends it on both; idle sessions end', async () => {
  const active = await signInOn(setup.op, a);
  const idle = await signInOn(setup.op, a, new Browser());
  const start = await stored(active);
  const idleStart = await stored(idle);
  if (start === undefined || idleStart === undefined) throw new Error('no stored session');
  const created = start.created_at;

  // Inside the rolling window, on the other instance: recorded in the shared session.
  await sleepUntil(created + ROLLING - 1);
  expect(await status(active, b)).toBe(200);
  expect((await stored(active))?.last_seen).toBeGreaterThan(created);

  // Past the idle session's rolling window (and the active one's first): the idle one has ended,
  // the active one is alive thanks to the activity B recorded.
  await sleepUntil(Math.max(created, idleStart.last_seen) + ROLLING);
  expect(await status(idle, b)).toBe(401);
  expect(await status(idle, a)).toBe(401);
  expect(await status(active, a)).toBe(200);

  // Activity does not carry a session past its absolute limit, on either instance.
  await sleepUntil(created + ABSOLUTE);
  expect(await status(active, b)).toBe(401);
  expect(await status(active, a)).toBe(401);
  expect(await stored(active)).toBeUndefined();
});
