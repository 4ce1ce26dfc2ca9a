/**
 * Back-channel logout apps in express-openid-connect's style (the built-in
 * handling, its three hooks, and a Redis session store with nothing else set),
 * each with its own test OP, which delivers logout tokens to it.
 */
import { Browser } from '../helpers/browser.js';
import { sessionIdOf } from '../helpers/instances.js';
import { USERS, type TestOP } from '../helpers/op.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { startMigrationApp, startOP, type MigrationApp } from './harness.js';

interface Running {
  op: TestOP;
  app: MigrationApp;
}
const running: Running[] = [];

async function start(name: string, opOptions = {}): Promise<Running> {
  const { op, ports } = await startOP(1, opOptions);
  const app = await startMigrationApp(name, op, ports[0] as number);
  const run = { op, app };
  running.push(run);
  return run;
}

let redis: RedisServer | undefined;
afterAll(async () => {
  for (const { op, app } of running) {
    await app.close();
    await op.stop();
    (app.module.redisClient as { destroy(): void } | undefined)?.destroy();
  }
  await redis?.stop();
});

async function signedIn(browser: Browser, app: MigrationApp): Promise<boolean> {
  const res = await browser.get(`${app.url}/profile`, { follow: false });
  return res.status === 200;
}

test('backchannelLogout: true: the OP ends the session, the app session ends with it', async () => {
  const { op, app } = await start('backchannel-logout');
  const browser = new Browser();
  await op.signIn(browser, `${app.url}/login`);
  expect(await signedIn(browser, app)).toBe(true);
  await op.endSession(browser);
  expect(op.backchannelLogouts).toEqual([expect.objectContaining({ ok: true })]);
  expect(await signedIn(browser, app)).toBe(false);
  expect((await browser.get(`${app.url}/`)).body).toContain('login');
});

test('onLogoutToken: the app finds and destroys the sessions itself (isLoggedOut and onLogin off)', async () => {
  const { op, app } = await start('backchannel-logout-hooks');
  const victim = new Browser();
  const bystander = new Browser();
  await op.signIn(victim, `${app.url}/login`);
  await op.signIn(bystander, `${app.url}/login`);
  await op.endSession(victim);
  const received = app.module.received as Array<Record<string, unknown>>;
  expect(received).toEqual([expect.objectContaining({ sub: USERS.alice.sub, sid: expect.any(String), iss: op.issuer })]);
  expect(op.backchannelLogouts).toEqual([expect.objectContaining({ ok: true })]);
  expect(await signedIn(victim, app)).toBe(false);
  // the app's own rule ends every session of the token's sub, in the other browser too
  expect(await signedIn(bystander, app)).toBe(false);
  expect(await new Promise((resolve) => (app.module.store as { length(cb: (e: unknown, n: number) => void): void }).length((_e, n) => resolve(n)))).toBe(0);
});

test('isLoggedOut and onLogin: the per-request check ends the session; the next login is not ended by the old logout', async () => {
  const { op, app } = await start('backchannel-logout-checks');
  const browser = new Browser();
  await op.signIn(browser, `${app.url}/login`);
  expect(app.module.logins).toEqual([USERS.alice.sub]);
  await op.endSession(browser);
  expect((app.module.loggedOut as Set<string>).has(USERS.alice.sub)).toBe(true);
  expect(await signedIn(browser, app)).toBe(false);
  // the check ended the session: the cookie is cleared
  expect(browser.cookies.get('appSession')).toBeUndefined();
  await op.signIn(browser, `${app.url}/login`);
  expect(app.module.logins).toEqual([USERS.alice.sub, USERS.alice.sub]);
  expect(await signedIn(browser, app)).toBe(true);
});

test('Redis: connect-redis with nothing else set: sessions, the logout index and the refresh lock all live in Redis', async () => {
  redis = await startRedis();
  process.env.REDIS_URL = redis.url;
  let run: Running;
  try {
    run = await start('redis', { accessTokenTTL: 4, rotateRefreshTokens: true });
  } finally {
    delete process.env.REDIS_URL;
  }
  const { op, app } = run;
  const browser = new Browser();
  const landed = await op.signIn(browser, `${app.url}/login`);
  expect(landed.status).toBe(200);
  const sid = sessionIdOf(browser);
  expect(await redis.command('EXISTS', `sess:${sid}`)).toBe(1);
  // the derived RedisLogoutIndex filed the session under its sub
  expect(await redis.command('EXISTS', `oidc:logout:key:sub:${USERS.alice.sub}`)).toBe(1);

  await new Promise((resolve) => setTimeout(resolve, 4_500));
  op.resetCounts();
  const fresh = await browser.get(`${app.url}/`, { headers: { accept: 'application/json' } });
  expect(fresh.status).toBe(200);
  expect(op.counts.token.refresh_token).toBe(1);

  await op.endSession(browser);
  expect(op.backchannelLogouts).toEqual([expect.objectContaining({ ok: true })]);
  expect(await redis.command('EXISTS', `sess:${sid}`)).toBe(0);
});
