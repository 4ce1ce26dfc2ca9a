/**
 * The password login route end to end: a real app with auth({ passwordLogin }) and a real OP that
 * checks the credentials, records the headers it received and asks bob for MFA.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';

import { MfaPendingError, MfaRequiredError } from '../../src/index.js';
import { Browser } from '../helpers/browser.js';
import { freePort, startApp, type TestApp } from '../helpers/app.js';
import { DEFAULT_REALM, PASSWORD_REALM_GRANT, USERS, createTestOP, type TestOP } from '../helpers/op.js';

const ROUTE = '/login/password';
const AUDIENCE = 'https://api.example.com';

let op: TestOP;
let app: TestApp;
const afterCallbackStates: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  const port = await freePort();
  op = await createTestOP({ appBaseURL: `http://127.0.0.1:${port}` });
  app = await startApp(
    op.issuer,
    port,
    {
      passwordLogin: true,
      afterCallback: (_req, _res, session, state) => {
        afterCallbackStates.push(state);
        return { ...session, marker: 'set-by-afterCallback' };
      },
    },
    (express) => {
      express.get('/marker', (req, res) => {
        res.json({ marker: (req.session as { oidc?: { marker?: unknown } } | undefined)?.oidc?.marker ?? null });
      });
    },
  );
});
afterAll(async () => {
  await app?.close();
  await op?.stop();
});
beforeEach(() => {
  op.resetCounts();
  app.errors.length = 0;
  app.app.set('trust proxy', false);
});

function sessionCookie(browser: Browser): string | undefined {
  return browser.cookies.get('appSession')?.value;
}

function login(browser: Browser, form: Record<string, string>, headers: Record<string, string> = {}) {
  return browser.post(`${app.url}${ROUTE}`, form, { follow: false, headers });
}

describe('password login route', () => {
  test('signs in: new session, afterCallback, redirect to returnTo, client IP sent to the OP', async () => {
    const browser = new Browser();
    const res = await login(browser, { username: USERS.alice.username, password: USERS.alice.password, returnTo: '/profile?tab=1' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`${app.url}/profile?tab=1`);
    const first = sessionCookie(browser);
    expect(first).toBeDefined();

    const profile = await browser.get(`${app.url}/profile`);
    expect(profile.status).toBe(200);
    expect(JSON.parse(profile.body).user.sub).toBe(USERS.alice.sub);
    expect(JSON.parse((await browser.get(`${app.url}/marker`)).body).marker).toBe('set-by-afterCallback');
    expect(afterCallbackStates.at(-1)?.returnTo).toBe(`${app.url}/profile?tab=1`);

    const sent = op.tokenRequests.at(-1);
    expect(sent?.grantType).toBe('password');
    expect(sent?.headers['auth0-forwarded-for']).toBe('127.0.0.1');
    expect(String(sent?.params.scope).split(' ')).toContain('openid');

    // Signing in again gets a new session id; the old one is gone.
    await login(browser, { username: USERS.alice.username, password: USERS.alice.password });
    const second = sessionCookie(browser);
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    const stale = new Browser();
    stale.cookies.set({ name: 'appSession', value: first as string });
    expect(JSON.parse((await stale.get(`${app.url}/`)).body).authenticated).toBe(false);
  });

  test("the IP honours Express's trust proxy", async () => {
    const forwarded = { 'x-forwarded-for': '203.0.113.9' };
    // Not trusted: a client cannot choose the IP the OP sees.
    await login(new Browser(), { username: USERS.alice.username, password: USERS.alice.password }, forwarded);
    expect(op.tokenRequests.at(-1)?.headers['auth0-forwarded-for']).toBe('127.0.0.1');

    app.app.set('trust proxy', 'loopback');
    const res = await login(new Browser(), { username: USERS.alice.username, password: USERS.alice.password }, forwarded);
    expect(res.status).toBe(303);
    expect(op.tokenRequests.at(-1)?.headers['auth0-forwarded-for']).toBe('203.0.113.9');
  });

  test('wrong password and unknown user get the same generic 401, and no session', async () => {
    const wrongPassword = new Browser();
    const a = await login(wrongPassword, { username: USERS.alice.username, password: 'not-her-password' });
    const unknownUser = new Browser();
    const b = await login(unknownUser, { username: 'nobody-here', password: 'not-a-password' });
    expect(a.status).toBe(401);
    expect(b.status).toBe(401);
    expect(a.body).toBe(b.body);
    expect(JSON.parse(a.body).code).toBe('ERR_LOGIN_FAILED');
    expect(a.body).not.toContain('not-her-password');
    expect(sessionCookie(wrongPassword)).toBeUndefined();
    expect(sessionCookie(unknownUser)).toBeUndefined();
    expect(op.tokenRequests).toHaveLength(2);
  });

  test('every credential-related OP answer gets the same generic 401; the OP code is kept in cause only', async () => {
    const refused = [
      [USERS.alice.username, 'not-her-password', 'invalid_grant'],
      ['nobody-here', 'not-a-password', 'invalid_grant'],
      [USERS.blocked.username, USERS.blocked.password, 'too_many_attempts'],
      [USERS.suspended.username, USERS.suspended.password, 'unauthorized'],
      [USERS.leaked.username, USERS.leaked.password, 'password_leaked'],
      [USERS.unassigned.username, USERS.unassigned.password, 'unauthorized_client'],
      [USERS.denied.username, USERS.denied.password, 'access_denied'],
    ] as const;
    const answers = new Set<string>();
    for (const [username, password, opError] of refused) {
      const browser = new Browser();
      const res = await login(browser, { username, password });
      answers.add(`${res.status} ${res.headers.get('content-type')} ${res.body}`);
      const err = app.errors.at(-1) as { code: string; error?: string; cause?: { error?: string } };
      expect({ username, code: err.code, error: err.error, cause: err.cause?.error }).toEqual({ username, code: 'ERR_LOGIN_FAILED', error: undefined, cause: opError });
      expect(res.body).not.toContain(opError);
      expect(sessionCookie(browser)).toBeUndefined();
    }
    expect([...answers]).toHaveLength(1);
    expect([...answers][0]).toMatch(/^401 /);
  });

  test('mfa_required: the app gets MfaPendingError with a pending-login handle, the browser a binding cookie, no session', async () => {
    const browser = new Browser();
    const res = await login(browser, { username: USERS.bob.username, password: USERS.bob.password });
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body).code).toBe('ERR_MFA_REQUIRED');
    const err = app.errors.at(-1);
    expect(err).toBeInstanceOf(MfaPendingError);
    expect(err).not.toBeInstanceOf(MfaRequiredError);
    expect((err as MfaPendingError).pendingLogin).toMatch(/^[\w-]{43}$/);
    expect((err as MfaPendingError).attemptsLeft).toBe(5);
    expect(browser.cookies.get('auth_verification_mfa')?.value).toMatch(/^[\w-]{43}$/);
    expect(sessionCookie(browser)).toBeUndefined();
  });

  test('an off-site returnTo falls back to baseURL', async () => {
    const res = await login(new Browser(), { username: USERS.alice.username, password: USERS.alice.password, returnTo: 'https://evil.example/' });
    expect(res.status).toBe(303);
    expect(new URL(res.headers.get('location') as string).href).toBe(`${app.url}/`);
  });

  test('bad requests get 4xx before the OP is asked', async () => {
    const browser = new Browser();
    const alice = { username: USERS.alice.username, password: USERS.alice.password };
    const cases: Array<[Promise<{ status: number; body: string }>, number, string]> = [
      [browser.post(`${app.url}${ROUTE}`, JSON.stringify(alice), { follow: false, contentType: 'application/json' }), 415, 'ERR_BAD_REQUEST'],
      [login(browser, { username: USERS.alice.username }), 400, 'ERR_BAD_REQUEST'],
      [login(browser, { username: '', password: 'x' }), 400, 'ERR_BAD_REQUEST'],
      [login(browser, { ...alice, password: 'p'.repeat(2_000) }), 400, 'ERR_BAD_REQUEST'],
      [browser.post(`${app.url}${ROUTE}`, `username=a&username=b&password=c`, { follow: false }), 400, 'ERR_BAD_REQUEST'],
      [browser.post(`${app.url}${ROUTE}`, `username=alice&password=${'x'.repeat(100_000)}`, { follow: false }), 413, 'ERR_BAD_REQUEST'],
      [login(browser, alice, { origin: 'https://evil.example' }), 403, 'ERR_CROSS_SITE_REQUEST'],
      [login(browser, alice, { origin: 'null' }), 403, 'ERR_CROSS_SITE_REQUEST'],
      [login(browser, alice, { 'sec-fetch-site': 'cross-site' }), 403, 'ERR_CROSS_SITE_REQUEST'],
      [login(browser, alice, { 'sec-fetch-site': 'same-site' }), 403, 'ERR_CROSS_SITE_REQUEST'],
    ];
    for (const [pending, status, code] of cases) {
      const res = await pending;
      expect([res.status, JSON.parse(res.body).code]).toEqual([status, code]);
    }
    expect(op.tokenRequests).toHaveLength(0);
    expect(sessionCookie(browser)).toBeUndefined();

    // The app's own pages pass the same checks.
    const ok = await login(browser, alice, { origin: app.url, 'sec-fetch-site': 'same-origin' });
    expect(ok.status).toBe(303);
  });
});

describe('password login options', () => {
  test('realm, audience and scope are sent; openid is always asked for', async () => {
    const port = await freePort();
    const realmApp = await startApp(op.issuer, port, { passwordLogin: { realm: DEFAULT_REALM, audience: AUDIENCE, scope: 'profile read:data' } });
    try {
      const browser = new Browser();
      const res = await browser.post(`${realmApp.url}${ROUTE}`, { username: USERS.alice.username, password: USERS.alice.password });
      expect(res.status).toBe(200);
      expect(res.url).toBe(`${realmApp.url}/`);
      expect(JSON.parse(res.body).authenticated).toBe(true);
      const sent = op.tokenRequests.at(-1);
      expect(sent?.grantType).toBe(PASSWORD_REALM_GRANT);
      expect(sent?.params.realm).toBe(DEFAULT_REALM);
      expect(sent?.params.audience).toBe(AUDIENCE);
      expect(String(sent?.params.scope).split(' ').sort()).toEqual(['openid', 'profile', 'read:data']);
    } finally {
      await realmApp.close();
    }
  });

  test('the route is off by default', async () => {
    const port = await freePort();
    const plain = await startApp(op.issuer, port);
    try {
      const res = await new Browser().post(`${plain.url}${ROUTE}`, { username: USERS.alice.username, password: USERS.alice.password }, { follow: false });
      expect(res.status).toBe(404);
      expect(op.tokenRequests).toHaveLength(0);
    } finally {
      await plain.close();
    }
  });

  test('a mistyped option fails at auth() time', async () => {
    const port = await freePort();
    await expect(startApp(op.issuer, port, { passwordLogin: { relm: 'x' } as never })).rejects.toThrow(/passwordLogin/);
    await expect(startApp(op.issuer, port, { passwordLogin: { scope: 5 } as never })).rejects.toThrow(/passwordLogin/);
  });
});
