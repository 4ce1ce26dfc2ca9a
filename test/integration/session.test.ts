/**
 * The session: a new id at login (no fixation), HttpOnly / SameSite=Lax / Secure-on-https cookies,
 * rolling and absolute lifetimes enforced on the server (a replayed cookie after them is
 * anonymous), and an app that mounted its own express-session keeps using it.
 */
import session from 'express-session';
import request from 'supertest';
import { Browser } from '../helpers/browser.js';
import { APP_SECRET, startApp, type TestApp } from '../helpers/app.js';
import { authorizeUntilCallback, clientsFor, freePorts, whoAmI } from '../helpers/flow.js';
import { createTestOP, USERS, type TestOP } from '../helpers/op.js';

/** A store that never expires anything: whatever ends a session in these tests is the library's own check. */
class KeepForeverStore extends session.Store {
  readonly sessions = new Map<string, string>();
  override get(sid: string, cb: (err: unknown, sess?: session.SessionData | null) => void) {
    const json = this.sessions.get(sid);
    cb(null, json === undefined ? null : (JSON.parse(json) as session.SessionData));
  }
  override set(sid: string, sess: session.SessionData, cb?: (err?: unknown) => void) {
    this.sessions.set(sid, JSON.stringify(sess));
    cb?.();
  }
  override destroy(sid: string, cb?: (err?: unknown) => void) {
    this.sessions.delete(sid);
    cb?.();
  }
}

const HTTPS_BASE = 'https://app.example.com';
let op: TestOP;
let app: TestApp;
let httpsApp: TestApp;
let httpsNoProxyTrust: TestApp;
let ownSessionApp: TestApp;
let shortLived: TestApp;
const shortStore = new KeepForeverStore();

beforeAll(async () => {
  const ports = await freePorts(5);
  const [p0 = 0, p1 = 0, p2 = 0, p3 = 0, p4 = 0] = ports;
  const bases = ports.map((p) => `http://127.0.0.1:${p}`);
  op = await createTestOP({ appBaseURL: bases[0], clients: clientsFor([...bases, HTTPS_BASE]) });
  app = await startApp(op.issuer, p0);
  httpsApp = await startApp(op.issuer, p1, { baseURL: HTTPS_BASE }, (express) => express.set('trust proxy', 1));
  httpsNoProxyTrust = await startApp(op.issuer, p2, { baseURL: HTTPS_BASE });
  ownSessionApp = await startApp(
    op.issuer,
    p3,
    {},
    (express) => {
      express.get('/visit', (req, res) => {
        req.session.views = (req.session.views ?? 0) + 1;
        res.json({ views: req.session.views });
      });
    },
    [session({ secret: APP_SECRET, resave: false, saveUninitialized: true })],
  );
  shortLived = await startApp(op.issuer, p4, { session: { store: shortStore, rollingDuration: 2, absoluteDuration: 4 } });
});
afterAll(async () => {
  await Promise.all([app, httpsApp, httpsNoProxyTrust, ownSessionApp, shortLived].map((a) => a?.close()));
  await op?.stop();
});

declare module 'express-session' {
  interface SessionData {
    views?: number;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `/` with exactly this Cookie header, as a browser that kept an old cookie would send it. */
async function replay(appUrl: string, cookie: string): Promise<boolean> {
  const res = await fetch(`${appUrl}/`, { headers: { cookie, accept: 'application/json' } });
  return ((await res.json()) as { authenticated: boolean }).authenticated;
}

function cookieHeader(browser: Browser, name: string): string {
  const cookie = browser.cookies.get(name);
  if (!cookie) throw new Error(`no ${name} cookie`);
  return `${name}=${cookie.value}`;
}

describe('session id', () => {
  test('a new login gets a new session id, and the previous id is no longer signed in', async () => {
    const browser = new Browser();
    await op.signIn(browser, `${app.url}/login`);
    const first = cookieHeader(browser, 'appSession');
    await op.signIn(browser, `${app.url}/login`);
    const second = cookieHeader(browser, 'appSession');
    expect(second).not.toBe(first);
    expect(await replay(app.url, second)).toBe(true);
    expect(await replay(app.url, first)).toBe(false);
  });

  test('an app with its own express-session: the id it had before login is replaced at login', async () => {
    const browser = new Browser();
    expect(JSON.parse((await browser.get(`${ownSessionApp.url}/visit`)).body).views).toBe(1);
    const before = cookieHeader(browser, 'connect.sid');

    const res = await op.signIn(browser, `${ownSessionApp.url}/login?returnTo=/profile`);
    expect(res.url).toBe(`${ownSessionApp.url}/profile`);
    expect(JSON.parse(res.body).user.sub).toBe(USERS.alice.sub);
    const after = cookieHeader(browser, 'connect.sid');
    expect(after).not.toBe(before);
    // The library used the app's session: it set no session cookie of its own.
    expect(browser.cookies.get('appSession')).toBeUndefined();
    expect(await replay(ownSessionApp.url, after)).toBe(true);
    expect(await replay(ownSessionApp.url, before)).toBe(false);
    // The app's own use of the session goes on.
    expect(JSON.parse((await browser.get(`${ownSessionApp.url}/visit`)).body).views).toBe(1);
    expect((await whoAmI(browser, ownSessionApp.url)).authenticated).toBe(true);

    await browser.get(`${ownSessionApp.url}/logout`);
    expect((await whoAmI(browser, ownSessionApp.url)).authenticated).toBe(false);
    expect(await replay(ownSessionApp.url, after)).toBe(false);
  });
});

describe('cookies', () => {
  test('on http: HttpOnly, SameSite=Lax, Path=/, not Secure', async () => {
    const browser = new Browser();
    const delivery = await authorizeUntilCallback(browser, `${app.url}/login`);
    const res = await fetch(delivery.url, { redirect: 'manual', headers: { cookie: browser.cookies.headerFor(delivery.url) ?? '' } });
    const sessionCookie = res.headers.getSetCookie().find((c) => c.startsWith('appSession=')) ?? '';
    expect(sessionCookie).toMatch(/; HttpOnly/i);
    expect(sessionCookie).toMatch(/; SameSite=Lax/i);
    expect(sessionCookie).toMatch(/; Path=\//i);
    expect(sessionCookie).not.toMatch(/; Secure/i);
  });

  test('on https (behind a TLS proxy, trust proxy set): every cookie is __Host- prefixed, Secure, HttpOnly and SameSite=Lax', async () => {
    const login = await request(httpsApp.app).get('/login').set('X-Forwarded-Proto', 'https');
    expect(login.status).toBe(302);
    const txCookie = (login.get('Set-Cookie') ?? []).find((c) => c.startsWith('__Host-auth_verification.')) ?? '';
    expect(txCookie).toMatch(/; Secure/);
    expect(txCookie).toMatch(/; HttpOnly/);
    expect(txCookie).toMatch(/; SameSite=Lax/);

    const browser = new Browser();
    const delivery = await authorizeUntilCallback(browser, login.get('Location') ?? '');
    expect(delivery.url.origin).toBe(HTTPS_BASE);
    const callback = await request(httpsApp.app)
      .get(`${delivery.url.pathname}${delivery.url.search}`)
      .set('X-Forwarded-Proto', 'https')
      .set('Cookie', txCookie.split(';')[0] ?? '');
    expect(callback.status).toBe(302);
    expect(callback.get('Location')).toBe(`${HTTPS_BASE}/`);
    const sessionCookie = (callback.get('Set-Cookie') ?? []).find((c) => c.startsWith('__Host-appSession=')) ?? '';
    expect(sessionCookie).toMatch(/; Secure/i);
    expect(sessionCookie).toMatch(/; HttpOnly/i);
    expect(sessionCookie).toMatch(/; SameSite=Lax/i);
    // What browsers demand of __Host- cookies: Path=/ and no Domain.
    for (const cookie of [txCookie, sessionCookie]) {
      expect(cookie).toMatch(/; Path=\/(;|$)/i);
      expect(cookie).not.toMatch(/; Domain=/i);
    }
  });

  test('https baseURL but the request arrived over http (trust proxy not set): a clear error instead of a silent non-login', async () => {
    const login = await request(httpsNoProxyTrust.app).get('/login').set('X-Forwarded-Proto', 'https');
    const txCookie = (login.get('Set-Cookie') ?? []).find((c) => c.startsWith('__Host-auth_verification.')) ?? '';
    const delivery = await authorizeUntilCallback(new Browser(), login.get('Location') ?? '');
    const callback = await request(httpsNoProxyTrust.app)
      .get(`${delivery.url.pathname}${delivery.url.search}`)
      .set('X-Forwarded-Proto', 'https')
      .set('Cookie', txCookie.split(';')[0] ?? '');
    expect(callback.status).toBe(500);
    expect(callback.body.code).toBe('ERR_CONFIG_INVALID');
    expect(callback.body.message).toMatch(/trust proxy/);
    expect(callback.get('Set-Cookie')?.some((c) => c.startsWith('__Host-appSession=')) ?? false).toBe(false);
  });
});

describe('lifetimes enforced on the server (rollingDuration 2 s, absoluteDuration 4 s)', () => {
  // Both wait for real time to pass, so they run side by side.
  test.concurrent('an idle session ends after rollingDuration: a replayed cookie is anonymous and the record is gone', async () => {
    const browser = new Browser();
    await op.signIn(browser, `${shortLived.url}/login`);
    const cookie = cookieHeader(browser, 'appSession');
    expect(await replay(shortLived.url, cookie)).toBe(true);
    const signed = decodeURIComponent(cookie.slice('appSession='.length));
    const sid = signed.slice(2, signed.lastIndexOf('.'));
    expect(shortStore.sessions.has(sid)).toBe(true);
    await sleep(3_100);
    expect(await replay(shortLived.url, cookie)).toBe(false);
    expect(shortStore.sessions.has(sid)).toBe(false);
  });

  test.concurrent('activity extends the session past rollingDuration, but not past absoluteDuration', async () => {
    const browser = new Browser();
    await op.signIn(browser, `${shortLived.url}/login`);
    const cookie = cookieHeader(browser, 'appSession');
    const start = Date.now();
    let aliveAt = 0;
    let deadAt = 0;
    // Bounded: the session must end within absoluteDuration plus a second of clock rounding.
    while (Date.now() - start < 7_000) {
      await sleep(700);
      const alive = await replay(shortLived.url, cookie);
      if (!alive) {
        deadAt = Date.now() - start;
        break;
      }
      aliveAt = Date.now() - start;
    }
    expect(aliveAt).toBeGreaterThan(2_500); // kept alive by activity beyond rollingDuration
    expect(deadAt).toBeGreaterThan(2_500);
    expect(deadAt).toBeLessThanOrEqual(5_800); // ended by absoluteDuration
    expect(await replay(shortLived.url, cookie)).toBe(false);
  }, 15_000);
});
