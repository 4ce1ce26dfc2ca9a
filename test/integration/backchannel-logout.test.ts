/**
 * Back-channel logout on one instance with the in-process session store,
 * driven by a real OP: ending the user's session at the OP ends the app
 * session; a replayed, tampered or malformed logout token gets 400 and ends
 * nothing; the route exists only when `backchannelLogout` is on.
 */
import type { Request, RequestHandler } from 'express';
import session from 'express-session';
import { SignJWT, decodeJwt, importJWK, type JWTPayload } from 'jose';
import { Browser } from '../helpers/browser.js';
import { freePort, loadExpress, startApp, type TestApp } from '../helpers/app.js';
import { createTestOP, USERS, type TestOP } from '../helpers/op.js';

const JSON_ACCEPT = { headers: { accept: 'application/json' } };

let op: TestOP;
let app: TestApp;
/** logout tokens the OP delivered, read by a body parser the app mounted before auth() */
const delivered: string[] = [];

beforeAll(async () => {
  const port = await freePort();
  op = await createTestOP({ appBaseURL: `http://127.0.0.1:${port}` });
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
  app = await startApp(
    op.issuer,
    port,
    { backchannelLogout: true },
    (express) => express.get('/claims', (req, res) => res.json(req.oidc.idTokenClaims ?? null)),
    [recorder],
  );
});
afterAll(async () => {
  await app?.close();
  await op?.stop();
});

async function signIn(browser = new Browser(), target: TestApp = app): Promise<Browser> {
  const landed = await op.signIn(browser, `${target.url}/login`);
  if (landed.status !== 200) throw new Error(`sign-in failed: ${landed.status} ${landed.url}`);
  return browser;
}

async function isSignedIn(browser: Browser, target: TestApp = app): Promise<boolean> {
  const res = await browser.get(`${target.url}/profile`, JSON_ACCEPT);
  return res.status === 200 && (JSON.parse(res.body) as { user: { sub: string } }).user.sub === USERS.alice.sub;
}

async function sidOf(browser: Browser): Promise<string> {
  const claims = JSON.parse((await browser.get(`${app.url}/claims`, JSON_ACCEPT)).body) as { sid?: unknown };
  if (typeof claims.sid !== 'string') throw new Error('the ID token has no sid');
  return claims.sid;
}

function post(body: string, contentType = 'application/x-www-form-urlencoded', target: TestApp = app): Promise<Response> {
  return fetch(`${target.url}/backchannel-logout`, { method: 'POST', headers: { 'content-type': contentType }, body });
}

/** A logout token signed with the OP's own key (what the OP would send). */
async function signedByOP(payload: JWTPayload): Promise<string> {
  const jwk = op.signingKeys().privateJwks[0];
  if (jwk === undefined) throw new Error('no OP key');
  return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: jwk.kid as string, typ: 'logout+jwt' }).sign(await importJWK(jwk, 'RS256'));
}

function logoutClaims(sid: string, overrides: Record<string, unknown> = {}): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: op.issuer,
    aud: 'test-client',
    iat: now,
    exp: now + 120,
    jti: `jti-${Math.random().toString(36).slice(2)}`,
    sub: USERS.alice.sub,
    sid,
    events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
    ...overrides,
  };
}

test('ending the session at the OP ends the app session: anonymous on the next request', async () => {
  const browser = await signIn();
  const bystander = await signIn(new Browser());
  expect(await isSignedIn(browser)).toBe(true);
  op.resetCounts();
  delivered.length = 0;

  await op.endSession(browser);

  expect(op.backchannelLogouts.filter((r) => r.clientId === 'test-client')).toEqual([expect.objectContaining({ ok: true })]);
  expect(delivered).toHaveLength(1);
  const home = JSON.parse((await browser.get(`${app.url}/`)).body) as { authenticated: boolean };
  expect(home.authenticated).toBe(false);
  const profile = await browser.get(`${app.url}/profile`, { follow: false });
  expect(profile.status).toBe(302);
  // another OP session of the same user is not touched
  expect(await isSignedIn(bystander)).toBe(true);
});

test('the answer is 200 with Cache-Control: no-store', async () => {
  const browser = await signIn();
  const res = await post(new URLSearchParams({ logout_token: await signedByOP(logoutClaims(await sidOf(browser))) }).toString());
  expect(res.status).toBe(200);
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(await isSignedIn(browser)).toBe(false);
});

test('a token without sid ends every session of its sub', async () => {
  const one = await signIn();
  const two = await signIn(new Browser());
  const res = await post(new URLSearchParams({ logout_token: await signedByOP(logoutClaims('unused', { sid: undefined })) }).toString());
  expect(res.status).toBe(200);
  expect(await isSignedIn(one)).toBe(false);
  expect(await isSignedIn(two)).toBe(false);
});

test('the OP\'s token replayed gets 400; a replayed jti cannot end a live session', async () => {
  const first = await signIn();
  delivered.length = 0;
  await op.endSession(first);
  const [token] = delivered;
  if (token === undefined) throw new Error('no logout token was delivered');

  const replay = await post(new URLSearchParams({ logout_token: token }).toString());
  expect(replay.status).toBe(400);
  expect(replay.headers.get('cache-control')).toBe('no-store');
  expect(await replay.json()).toEqual({ error: 'invalid_request', error_description: 'logout token invalid: it was already used' });

  // a correctly signed token for a live session, but with the jti of the used token
  const live = await signIn(new Browser());
  const reused = await signedByOP(logoutClaims(await sidOf(live), { jti: decodeJwt(token).jti }));
  expect((await post(new URLSearchParams({ logout_token: reused }).toString())).status).toBe(400);
  expect(await isSignedIn(live)).toBe(true);
});

describe('refused without ending anything', () => {
  let live: Browser;
  let sid: string;
  beforeAll(async () => {
    live = await signIn();
    sid = await sidOf(live);
  });
  afterEach(async () => {
    expect(await isSignedIn(live)).toBe(true);
  });

  const form = (token: string) => new URLSearchParams({ logout_token: token }).toString();

  test.each<[string, () => Promise<[string, string?]>]>([
    ['no logout_token', async () => ['']],
    ['an empty logout_token', async () => ['logout_token=']],
    ['a repeated logout_token', async () => {
      const token = await signedByOP(logoutClaims(sid));
      return [`logout_token=${token}&logout_token=${token}`];
    }],
    ['a JSON body', async () => [JSON.stringify({ logout_token: await signedByOP(logoutClaims(sid)) }), 'application/json']],
    ['an oversized logout_token', async () => [form('a'.repeat(20_000))]],
    ['garbage', async () => [form('not.a.jwt')]],
    ['a token signed by another key', async () => {
      const { privateKey } = await (await import('jose')).generateKeyPair('RS256');
      const kid = op.signingKeys().privateJwks[0]?.kid as string;
      return [form(await new SignJWT(logoutClaims(sid)).setProtectedHeader({ alg: 'RS256', kid }).sign(privateKey))];
    }],
    ['a tampered payload', async () => {
      const [header, , signature] = (await signedByOP(logoutClaims('another-sid'))).split('.');
      return [form(`${header}.${Buffer.from(JSON.stringify(logoutClaims(sid))).toString('base64url')}.${signature}`)];
    }],
    ['another audience', async () => [form(await signedByOP(logoutClaims(sid, { aud: 'post-client' })))]],
    ['no events claim', async () => [form(await signedByOP(logoutClaims(sid, { events: undefined })))]],
    ['a nonce', async () => [form(await signedByOP(logoutClaims(sid, { nonce: 'n' })))]],
    ['an ID token', async () => [form(await signedByOP(logoutClaims(sid, { events: undefined, nonce: 'n', jti: undefined })))]],
  ])('%s', async (_name, make) => {
    const [body, contentType] = await make();
    const res = await post(body, contentType);
    expect(res.status).toBe(400);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ error: 'invalid_request', error_description: expect.any(String) });
    // the token is never echoed
    const token = new URLSearchParams(body).get('logout_token');
    if (token && token.length > 20) expect(text).not.toContain(token.slice(-20));
  });
});

test('without backchannelLogout the route is not mounted', async () => {
  const port = await freePort();
  const plain = await startApp(op.issuer, port);
  try {
    const res = await post('logout_token=x', undefined, plain);
    expect(res.status).toBe(404);
  } finally {
    await plain.close();
  }
});

test('an app that mounted its own express-session: the session is destroyed in the app\'s store', async () => {
  const port = await freePort();
  const own = new session.MemoryStore();
  const ownOP = await createTestOP({ appBaseURL: `http://127.0.0.1:${port}` });
  const appWithSession = await startApp(ownOP.issuer, port, { backchannelLogout: true }, undefined, [
    session({ secret: 'an-app-secret-for-its-own-session-0000', resave: false, saveUninitialized: false, store: own, name: 'appSession' }),
  ]);
  try {
    const browser = new Browser();
    const landed = await ownOP.signIn(browser, `${appWithSession.url}/login`);
    expect(landed.status).toBe(200);
    expect(await isSignedIn(browser, appWithSession)).toBe(true);
    const count = () => new Promise<number>((resolve) => own.length((_err, n) => resolve(n ?? 0)));
    expect(await count()).toBe(1);

    await ownOP.endSession(browser);

    expect(ownOP.backchannelLogouts.filter((r) => r.clientId === 'test-client')).toEqual([expect.objectContaining({ ok: true })]);
    expect(await count()).toBe(0);
    expect(await isSignedIn(browser, appWithSession)).toBe(false);
  } finally {
    await appWithSession.close();
    await ownOP.stop();
  }
});
