/**
 * Two instances of one app sharing Redis (connect-redis 9 sessions,
 * RedisRefreshLock, RedisLogoutIndex) against a real OP that rotates refresh
 * tokens (a second use of a rotated one revokes the grant, so a double
 * refresh shows up as a logout): a session works on both instances, one
 * refresh across both at expiry, and a back-channel logout delivered to one
 * instance ends the session on both.
 */
import type { Request, RequestHandler } from 'express';
import { SignJWT, decodeJwt, importJWK } from 'jose';
import { Browser } from '../helpers/browser.js';
import { loadExpress } from '../helpers/app.js';
import { getJson, JSON_ACCEPT, sessionIdOf, signInOn, sleepUntil, startInstances, type Instance, type Instances } from '../helpers/instances.js';
import { USERS } from '../helpers/op.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import type { OidcSession } from '../../src/session/data.js';

declare module 'express-session' {
  interface SessionData {
    note?: string;
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
let slow = { arrived: deferred(), release: deferred() };

let redis: RedisServer;
let setup: Instances;
let a: Instance;
let b: Instance;
/** logout tokens the OP delivered to instance A, read by a body parser the app mounted before auth() */
const delivered: string[] = [];

beforeAll(async () => {
  redis = await startRedis();
  const express = await loadExpress();
  const urlencoded = express.urlencoded({ extended: false });
  const recorder: RequestHandler = (req, res, next) => {
    if (req.method !== 'POST' || req.path !== '/backchannel-logout') return next();
    urlencoded(req, res, (err?: unknown) => {
      const token = (req as Request & { body?: { logout_token?: unknown } }).body?.logout_token;
      if (typeof token === 'string') delivered.push(token);
      next(err);
    });
  };
  setup = await startInstances(redis, {
    op: { accessTokenTTL: 4, rotateRefreshTokens: true },
    before: { A: [recorder] },
    routes: (app) => {
      app.get('/claims', (req, res) => res.json(req.oidc.idTokenClaims ?? null));
      // loads the session, waits for the test, then changes it: a request in flight during a logout
      app.get('/slow-write', async (req, res) => {
        slow.arrived.resolve();
        await slow.release.promise;
        req.session.note = 'written late';
        res.json({ ok: true });
      });
    },
  });
  ({ a, b } = setup);
  // Two instances, an OP and a redis-server: slow on a loaded machine, so a longer bound than a test's.
}, 90_000);
afterAll(async () => {
  await setup?.close();
  await redis?.stop();
});

async function storedSession(browser: Browser): Promise<OidcSession | undefined> {
  const raw = await redis.command('GET', `sess:${sessionIdOf(browser)}`);
  return typeof raw === 'string' ? ((JSON.parse(raw) as { oidc?: OidcSession }).oidc ?? undefined) : undefined;
}

async function signedInAs(browser: Browser, instance: Instance): Promise<string | undefined> {
  const res = await getJson(browser, `${instance.url}/profile`);
  return res.status === 200 ? ((res.body?.user as { sub?: string } | undefined)?.sub ?? undefined) : undefined;
}

test('a session created on A works on B, and one created on B works on A; it lives in Redis', async () => {
  const first = await signInOn(setup.op, a);
  expect(await signedInAs(first, b)).toBe(USERS.alice.sub);
  expect(await storedSession(first)).toEqual(expect.objectContaining({ id_token: expect.any(String), v: 1 }));

  const second = await signInOn(setup.op, b, new Browser());
  expect(await signedInAs(second, a)).toBe(USERS.alice.sub);
  expect(sessionIdOf(second)).not.toBe(sessionIdOf(first));
});

test('50 concurrent requests at expiry spread over A and B: one refresh grant, all succeed, still signed in', async () => {
  const browser = await signInOn(setup.op, b);
  const before = await storedSession(browser);
  if (before?.expires_at === undefined || before.issued_at === undefined) throw new Error('no token expiry stored');
  // Due for a refresh: the leeway is capped at half of the token's short lifetime.
  await sleepUntil(before.expires_at - Math.floor((before.expires_at - before.issued_at) / 2));
  setup.op.resetCounts();

  const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => browser.get(`${(i % 2 === 0 ? a : b).url}/token`, JSON_ACCEPT)));

  expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200));
  const tokens = new Set(responses.map((r) => (JSON.parse(r.body) as { access_token: string }).access_token));
  expect(tokens.size).toBe(1);
  expect([...tokens][0]).not.toBe(before.access_token);
  expect(setup.op.counts.token.refresh_token).toBe(1);

  const after = await storedSession(browser);
  expect(after?.v).toBe(before.v + 1);
  expect(after?.access_token).toBe([...tokens][0]);
  expect(after?.refresh_token).not.toBe(before.refresh_token);
  expect(await signedInAs(browser, a)).toBe(USERS.alice.sub);
  expect(await signedInAs(browser, b)).toBe(USERS.alice.sub);
  // the stored refresh token is the live one: the OP's grant survived
  const forced = await Promise.all([a, b].map((instance) => browser.get(`${instance.url}/token`, JSON_ACCEPT)));
  expect(forced.map((r) => r.status)).toEqual([200, 200]);
});

describe('back-channel logout', () => {
  test('the OP ends the session at A; a session created on B ends on both instances, others stay', async () => {
    const victim = await signInOn(setup.op, b);
    const bystander = await signInOn(setup.op, a, new Browser());
    for (const instance of [a, b]) {
      expect(await signedInAs(victim, instance)).toBe(USERS.alice.sub);
      expect(await signedInAs(bystander, instance)).toBe(USERS.alice.sub);
    }
    const victimSid = sessionIdOf(victim);
    expect(await redis.command('EXISTS', `sess:${victimSid}`)).toBe(1);
    setup.op.resetCounts();
    delivered.length = 0;

    await setup.op.endSession(victim);

    expect(setup.op.backchannelLogouts.filter((r) => r.clientId === 'test-client')).toEqual([expect.objectContaining({ ok: true })]);
    expect(delivered).toHaveLength(1);
    expect(await redis.command('EXISTS', `sess:${victimSid}`)).toBe(0);
    for (const instance of [a, b]) {
      // anonymous, and a protected route sends the browser to log in again
      const home = await getJson(victim, `${instance.url}/`);
      expect(home.body?.authenticated).toBe(false);
      const profile = await victim.get(`${instance.url}/profile`, { follow: false });
      expect(profile.status).toBe(302);
      expect(profile.headers.get('location')).toMatch(/\/auth\?|\/login/);
      expect(await signedInAs(bystander, instance)).toBe(USERS.alice.sub);
    }
  });

  test('a request in flight on B while A ends the session cannot write it back', async () => {
    slow = { arrived: deferred(), release: deferred() };
    const browser = await signInOn(setup.op, a);
    const sid = sessionIdOf(browser);
    const pending = browser.get(`${b.url}/slow-write`, JSON_ACCEPT);
    await slow.arrived.promise;

    await setup.op.endSession(browser);
    expect(await redis.command('EXISTS', `sess:${sid}`)).toBe(0);

    slow.release.resolve();
    expect((await pending).status).toBe(200);
    expect(await redis.command('EXISTS', `sess:${sid}`)).toBe(0);
    for (const instance of [a, b]) expect(await signedInAs(browser, instance)).toBeUndefined();
  });

  test('a replayed logout token (sent to the other instance) or a tampered one gets 400 and ends nothing', async () => {
    const first = await signInOn(setup.op, a);
    delivered.length = 0;
    await setup.op.endSession(first);
    const [token] = delivered;
    if (token === undefined) throw new Error('no logout token was delivered');

    // a live session of the same user under a new OP session
    const live = await signInOn(setup.op, b, new Browser());
    const sid = (await getJson(live, `${b.url}/claims`)).body?.sid;
    expect(typeof sid).toBe('string');

    const replay = await fetch(`${b.url}/backchannel-logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ logout_token: token }),
    });
    expect(replay.status).toBe(400);
    expect(replay.headers.get('cache-control')).toBe('no-store');
    const replayBody = await replay.text();
    expect(JSON.parse(replayBody)).toEqual({ error: 'invalid_request', error_description: expect.stringMatching(/already used/) });
    expect(replayBody).not.toContain(token.split('.')[2] as string);

    // the same token pointed at the live session (payload changed, signature kept)
    const [header, , signature] = token.split('.');
    const payload = { ...decodeJwt(token), sid, jti: `${decodeJwt(token).jti as string}-new` };
    const tampered = `${header}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${signature}`;
    const refused = await fetch(`${a.url}/backchannel-logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ logout_token: tampered }),
    });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error_description: string }).error_description).toMatch(/signature/);
    for (const instance of [a, b]) expect(await signedInAs(live, instance)).toBe(USERS.alice.sub);

    // properly signed by the OP, that token would have ended the session: the checks above could fail
    const jwk = setup.op.signingKeys().privateJwks[0];
    if (jwk === undefined) throw new Error('no OP key');
    const signed = await new SignJWT(payload)
      .setProtectedHeader({ alg: 'RS256', kid: jwk.kid as string, typ: 'logout+jwt' })
      .sign(await importJWK(jwk, 'RS256'));
    const accepted = await fetch(`${a.url}/backchannel-logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ logout_token: signed }),
    });
    expect(accepted.status).toBe(200);
    for (const instance of [a, b]) expect(await signedInAs(live, instance)).toBeUndefined();
  });
});

test('no Redis client error was raised while Redis was up', () => {
  expect(a.redisErrors).toEqual([]);
  expect(b.redisErrors).toEqual([]);
});
