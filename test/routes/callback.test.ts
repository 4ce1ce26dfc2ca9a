/**
 * /callback's own checks, fast: the transaction cookie is made here (signed with the app's
 * secret, as /login makes it), so every check before the code exchange runs without a sign-in,
 * against a real test OP (discovery, and the token endpoint refusing a made-up code). One test
 * signs in for the whole path: exchange, session, silent-login mark cleared, safe returnTo.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { addLogger } from '../../src/debug.js';
import { OidcError } from '../../src/errors.js';
import { requiresAuth } from '../../src/index.js';
import type { CallbackOptions } from '../../src/routes/callback.js';
import { sign } from 'cookie-signature';

import { Browser } from '../helpers/browser.js';
import { APP_SECRET, freePort, startApp, type TestApp } from '../helpers/app.js';
import { authorizeUntilCallback, deliver, errorBody, paramsOf, whoAmI } from '../helpers/flow.js';
import { createTestOP, USERS, type TestOP } from '../helpers/op.js';
import { LOA_PASSWORD, LOA_STRONG } from '../helpers/op/step-up.js';

let op: TestOP;
let app: TestApp;

/** The callback's log lines (what a developer sees with a `logger`), taken since the last call. */
const logged: string[] = [];
addLogger({ debug: (line) => logged.push(line), info: (line) => logged.push(line), warn: (line) => logged.push(line), error: (line) => logged.push(line) });
const callbackLog = () => logged.splice(0).filter((line) => line.startsWith('express-oidc:callback'));

/** While true, the OP's token endpoint answers 503 (an OP failure during the code exchange). */
let tokenEndpointDown = false;

beforeAll(async () => {
  const port = await freePort();
  op = await createTestOP({
    appBaseURL: `http://127.0.0.1:${port}`,
    middleware: [
      async (ctx, next) => {
        if (tokenEndpointDown && ctx.path === '/token') {
          ctx.status = 503;
          ctx.body = '';
          return;
        }
        await next();
      },
    ],
  });
  app = await startApp(op.issuer, port, {}, (express) => {
    // A login with extra authorization parameters, given as JSON in ?params=
    express.get('/login-with', (req, res) => res.oidc.login({ returnTo: '/profile', authorizationParams: JSON.parse(String(req.query.params ?? '{}')) as Record<string, string> }));
    // The app's own callback route, with the options given as JSON in a header.
    express.get('/callback-with', (req, res) => res.oidc.callback(JSON.parse(String(req.headers['x-callback-options'] ?? '{}')) as CallbackOptions));
    // A URL object where the type asks for a string (as plain JavaScript may pass one).
    express.get('/callback-with-url-object', (req, res) => res.oidc.callback({ redirectUri: new URL(`${app.url}/callback`) as unknown as string }));
    express.get('/strong', requiresAuth({ acrValues: LOA_STRONG }), (req, res) => res.json({ acr: req.oidc.idTokenClaims?.acr }));
    // What a refresh the OP refused leaves: the session without its tokens.
    express.get('/drop-tokens', (req, res) => {
      delete req.session.oidc;
      res.json({ dropped: true });
    });
  });
});
afterEach(() => {
  op.tamperIdToken(null);
  tokenEndpointDown = false;
});
afterAll(async () => {
  await app?.close();
  await op?.stop();
});

let counter = 0;
/** A transaction as /login stores it, and the Cookie header carrying it. */
function login(overrides: Record<string, unknown> = {}) {
  counter += 1;
  const state = `state-${String(counter).padStart(4, '0')}-abcdefghijklmnop`;
  const tx = { state, nonce: 'nonce-1', codeVerifier: 'v'.repeat(43), appState: { returnTo: '/after' }, createdAt: Math.floor(Date.now() / 1000), ...overrides };
  const cookie = `auth_verification.${state}=${sign(Buffer.from(JSON.stringify(tx)).toString('base64url'), APP_SECRET)}`;
  return { state, cookie };
}

async function callback(params: Record<string, string>, cookie: string, method: 'GET' | 'POST' = 'GET', target = `${app.url}/callback`, headers: Record<string, string> = {}) {
  const query = new URLSearchParams(params).toString();
  const res =
    method === 'GET'
      ? await fetch(`${target}?${query}`, { headers: { cookie, accept: 'application/json', ...headers }, redirect: 'manual' })
      : await fetch(target, { method: 'POST', headers: { cookie, accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: query, redirect: 'manual' });
  const text = await res.text();
  let body: { code?: string; error?: string; message?: string } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // a redirect has no JSON body
  }
  return { status: res.status, location: res.headers.get('location'), body, setCookie: res.headers.getSetCookie() };
}

describe('before the code exchange', () => {
  test('no state, or an empty one, is refused without reading any transaction', async () => {
    const { cookie } = login();
    for (const params of [{ code: 'c' }, { state: '', code: 'c' }] as Array<Record<string, string>>) {
      const res = await callback(params, cookie);
      expect([res.status, res.body.code, res.body.message]).toEqual([400, 'ERR_CALLBACK_INVALID', 'the callback has no state']);
      expect(res.setCookie.join()).not.toContain('auth_verification.');
    }
  });

  test('a state longer than 256 characters is refused as such', async () => {
    const res = await callback({ state: 's'.repeat(257), code: 'c' }, login().cookie);
    expect([res.status, res.body.code, res.body.message]).toEqual([400, 'ERR_BAD_REQUEST', 'parameter "state" is too long']);
  });

  test("the OP's error is a 400 ERR_OP_ERROR with its code in err.error, not in the message; the transaction is used up", async () => {
    const { state, cookie } = login();
    const res = await callback({ state, error: 'access_denied', error_description: 'The user said no', iss: op.issuer }, cookie);
    expect([res.status, res.body.code, res.body.error, res.body.message]).toEqual([400, 'ERR_OP_ERROR', 'access_denied', 'login failed: the OP answered with an error (see err.error)']);
    expect((app.errors.at(-1) as OidcError).error).toBe('access_denied');
    expect(res.setCookie.some((c) => c.startsWith(`auth_verification.${state}=;`))).toBe(true);
    // The OP's description reaches the app's error handler (not the browser), made printable.
    const handled = app.errors.at(-1) as OidcError;
    expect(handled.errorDescription).toBe('The user said no');
    const bare = login();
    await callback({ state: bare.state, error: 'access_denied' }, bare.cookie);
    expect((app.errors.at(-1) as OidcError).errorDescription).toBeUndefined();
  });

  test('an error that is not a plain code is not echoed', async () => {
    const { state, cookie } = login();
    const res = await callback({ state, error: '<script>alert(1)</script>' }, cookie);
    expect([res.status, res.body.code, res.body.error, res.body.message]).toEqual([400, 'ERR_OP_ERROR', undefined, 'login failed: the OP answered with an error (see err.error)']);
    expect((app.errors.at(-1) as OidcError).error).toBeUndefined();
    expect(JSON.stringify(res.body)).not.toContain('script');
  });

  test('a silent login the OP declined goes back to the page, anonymous, on the app only', async () => {
    const declined = login({ silent: true });
    callbackLog();
    const res = await callback({ state: declined.state, error: 'login_required' }, declined.cookie);
    expect([res.status, res.location]).toEqual([302, `${app.url}/after`]);
    expect(callbackLog()).toEqual(['express-oidc:callback silent login declined by the OP']);
    const foreign = login({ silent: true, appState: { returnTo: '//evil.example.com/' } });
    expect((await callback({ state: foreign.state, error: 'login_required' }, foreign.cookie)).location).toBe(`${app.url}/`);
  });

  test('an iss of another issuer, or none when the OP promises one, is refused before the code is used', async () => {
    for (const iss of ['https://evil.example.com', undefined]) {
      const { state, cookie } = login();
      op.resetCounts();
      const res = await callback({ state, code: 'a-code', ...(iss === undefined ? {} : { iss }) }, cookie);
      expect([res.status, res.body.code, res.body.message]).toEqual([400, 'ERR_ISSUER_MISMATCH', 'the authorization response comes from another issuer']);
      expect(op.counts.token).toEqual({});
    }
  });

  test('no code, or an empty one, is refused', async () => {
    for (const code of [undefined, '']) {
      const { state, cookie } = login();
      const res = await callback({ state, iss: op.issuer, ...(code === undefined ? {} : { code }) }, cookie);
      expect([res.status, res.body.code, res.body.message]).toEqual([400, 'ERR_CALLBACK_INVALID', 'the callback has no code']);
    }
  });

  test('a form_post callback is read from the body, with the same checks', async () => {
    const { state, cookie } = login();
    const res = await callback({ state, code: 'a-code', iss: 'https://evil.example.com' }, cookie, 'POST');
    expect([res.status, res.body.code]).toEqual([400, 'ERR_ISSUER_MISMATCH']);
  });
});

describe('the code exchange', () => {
  test('a code the OP refuses is an error for a login, and a quiet return for a silent one', async () => {
    const plain = login();
    callbackLog();
    const res = await callback({ state: plain.state, code: 'made-up-code', iss: op.issuer }, plain.cookie);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_grant');
    expect(res.setCookie.join()).not.toContain('appSession=');
    expect(callbackLog()).toEqual(['express-oidc:callback code exchange failed (ERR_OP_ERROR)']);

    const silent = login({ silent: true });
    const quiet = await callback({ state: silent.state, code: 'made-up-code', iss: op.issuer }, silent.cookie);
    expect([quiet.status, quiet.location]).toEqual([302, `${app.url}/after`]);
    expect(quiet.setCookie.join()).not.toContain('appSession=');
    expect(callbackLog()).toEqual(['express-oidc:callback silent login failed at the code exchange (ERR_OP_ERROR)']);
  });

  test("a code exchange the OP refuses for the client (a wrong client secret) is a non-exposed 502, the OP's answer kept for the developer", async () => {
    const misconfigured = await startApp(op.issuer, await freePort(), { clientSecret: 'a-wrong-client-secret-that-is-long-enough' });
    try {
      const { state, cookie } = login();
      const res = await fetch(`${misconfigured.url}/callback?${new URLSearchParams({ state, code: 'made-up-code', iss: op.issuer })}`, { headers: { cookie, accept: 'application/json' }, redirect: 'manual' });
      const body = (await res.json()) as { code?: string; error?: string; message?: string };
      // The test app's error handler shows every message; `expose: false` keeps it from Express's and the browser.
      expect([res.status, body.code, body.error]).toEqual([502, 'ERR_OP_ERROR', 'invalid_client']);
      const err = misconfigured.errors.at(-1) as OidcError;
      expect([err.status, err.expose, err.error, err.opStatus, err.url]).toEqual([502, false, 'invalid_client', 401, `${op.issuer}/token`]);
      expect([(err.cause as OidcError).code, (err.cause as OidcError).status]).toEqual(["ERR_OP_ERROR", 401]);
    } finally {
      await misconfigured.close();
    }
  });

  test('the max_age asked at login reaches the ID token check', async () => {
    op.tamperIdToken((claims) => ({ claims: { ...claims, auth_time: Math.floor(Date.now() / 1000) - 3_600 } }));
    const browser = new Browser();
    const res = await deliver(browser, await authorizeUntilCallback(browser, `${app.url}/login-with?params=${encodeURIComponent(JSON.stringify({ max_age: '60' }))}`));
    expect(res.status).toBe(400);
    expect((await whoAmI(browser, app.url)).authenticated).toBe(false);
  });

  test('the organization asked at login reaches the ID token check', async () => {
    op.tamperIdToken((claims) => ({ claims: { ...claims, org_id: 'org_other' } }));
    const browser = new Browser();
    const res = await deliver(browser, await authorizeUntilCallback(browser, `${app.url}/login-with?params=${encodeURIComponent(JSON.stringify({ organization: 'org_acme' }))}`));
    expect(res.status).toBe(400);
    expect((await whoAmI(browser, app.url)).authenticated).toBe(false);
  });

  test('a real login: signed in, sent to the safe returnTo, the silent-login mark cleared', async () => {
    const browser = new Browser();
    browser.cookies.set({ name: 'appSession_silent', value: '1' });
    const delivery = await authorizeUntilCallback(browser, `${app.url}/login?returnTo=/profile`);
    callbackLog();
    const res = await deliver(browser, delivery);
    expect(res.url).toBe(`${app.url}/profile`);
    expect(callbackLog()).toEqual(['express-oidc:callback code exchanged; ID token valid', 'express-oidc:callback login complete']);
    expect(browser.cookies.get('appSession_silent')).toBeUndefined();
    expect((await whoAmI(browser, app.url)).user?.sub).toBe(USERS.alice.sub);

    // The Back button: the used callback again goes on to the login's returnTo, also with another login in progress.
    expect((await deliver(browser, delivery)).url).toBe(`${app.url}/profile`);
    expect(callbackLog()).toEqual(['express-oidc:callback callback of a finished login reloaded; the session is active']);
    browser.cookies.set({ name: `auth_verification.${'o'.repeat(20)}`, value: 'another-login' });
    expect((await deliver(browser, delivery)).url).toBe(`${app.url}/profile`);
    // Another state, another browser, or the same one signed out: the used callback is refused.
    const state = paramsOf(delivery).get('state')!;
    const other = new URL(delivery.url);
    other.searchParams.set('state', `${state}x`);
    expect((await deliver(browser, { method: 'GET', url: other })).status).toBe(400);
    const stranger = new Browser();
    const refused = await deliver(stranger, delivery);
    expect([refused.status, errorBody(refused)?.code]).toEqual([400, 'ERR_TRANSACTION_MISSING']);
    // A transaction cookie of that state that is there but invalid (forged, expired) is refused, not followed.
    browser.cookies.set({ name: `auth_verification.${state}`, value: 'forged' });
    const forged = await deliver(browser, delivery);
    expect([forged.status, errorBody(forged)?.code]).toEqual([400, 'ERR_TRANSACTION_INVALID']);
    browser.cookies.delete(`auth_verification.${state}`);
    browser.cookies.delete(`auth_verification.${'o'.repeat(20)}`);
    expect((await deliver(browser, delivery)).url).toBe(`${app.url}/profile`);
    // A session that lost its tokens (as a refused refresh leaves it) is no longer signed in: refused.
    expect(JSON.parse((await browser.get(`${app.url}/drop-tokens`)).body)).toEqual({ dropped: true });
    const signedOut = await deliver(browser, delivery);
    expect([signedOut.status, errorBody(signedOut)?.code]).toEqual([400, 'ERR_TRANSACTION_MISSING']);
  });

  test("an OP failing at the code exchange (503) is a non-exposed 502, the OP's answer kept as its cause", async () => {
    tokenEndpointDown = true;
    const { state, cookie } = login();
    callbackLog();
    const res = await callback({ state, code: 'made-up-code', iss: op.issuer }, cookie);
    expect([res.status, res.body.code]).toEqual([502, 'ERR_OP_ERROR']);
    expect(res.setCookie.join()).not.toContain('appSession=');
    const err = app.errors.at(-1) as OidcError;
    expect([err.status, err.expose, err.opStatus, err.url]).toEqual([502, false, 503, `${op.issuer}/token`]);
    expect([(err.cause as OidcError).code, (err.cause as OidcError).opStatus]).toEqual(['ERR_OP_ERROR', 503]);
    expect(callbackLog()).toEqual(['express-oidc:callback code exchange failed (ERR_OP_ERROR)']);
  });

  test('a step-up login the OP answered without the asked acr grants nothing (403); with it, the page', async () => {
    op.tamperIdToken((claims) => ({ claims: { ...claims, acr: LOA_PASSWORD } }));
    const refused = new Browser();
    const res = await deliver(refused, await authorizeUntilCallback(refused, `${app.url}/strong`));
    expect([res.status, errorBody(res)?.code]).toEqual([403, 'ERR_STEP_UP_FAILED']);
    expect((await whoAmI(refused, app.url)).authenticated).toBe(false);

    op.tamperIdToken(null);
    const granted = new Browser();
    const landed = await deliver(granted, await authorizeUntilCallback(granted, `${app.url}/strong`));
    expect([landed.url, JSON.parse(landed.body)]).toEqual([`${app.url}/strong`, { acr: LOA_STRONG }]);
  });
});

describe("res.oidc.callback()'s options", () => {
  const withOptions = (options: unknown, params: Record<string, string>, cookie: string) =>
    callback(params, cookie, 'GET', `${app.url}/callback-with`, { 'x-callback-options': JSON.stringify(options) });

  test('a redirectUri that is not an absolute URL, or parameters that cannot be sent, fail before the request is read (500, naming the option)', async () => {
    const notAUrl = 'callback: "redirectUri" must be an absolute URL (the one the login sent)';
    const cases: Array<[unknown, string]> = [
      [{ redirectUri: 42 }, notAUrl],
      [{ redirectUri: '/callback' }, notAUrl],
      [{ tokenEndpointParams: { audience: { api: 'x' } } }, 'callback: "tokenEndpointParams" must be an object of string, number or boolean values ("audience" is not)'],
    ];
    for (const [options, message] of cases) {
      const { state, cookie } = login();
      op.resetCounts();
      const res = await withOptions(options, { state, code: 'a-code', iss: op.issuer }, cookie);
      expect([res.status, res.body.code, res.body.message]).toEqual([500, 'ERR_CONFIG_INVALID', message]);
      // The login in progress is left as it was, and the OP is not asked.
      expect(res.setCookie.join()).not.toContain('auth_verification.');
      expect(op.tokenRequests).toEqual([]);
    }
    const { state, cookie } = login();
    const res = await callback({ state, code: 'a-code', iss: op.issuer }, cookie, 'GET', `${app.url}/callback-with-url-object`);
    expect([res.status, res.body.code, res.body.message]).toEqual([500, 'ERR_CONFIG_INVALID', notAUrl]);
  });

  test('redirectUri and tokenEndpointParams reach the code exchange, values sent as text, null left out', async () => {
    const { state, cookie } = login({ redirectUri: `${app.url}/callback` });
    op.resetCounts();
    const options = { redirectUri: `${app.url}/callback-with`, tokenEndpointParams: { ext_hint: 'x', ext_count: 5, ext_flag: true, ext_none: null } };
    const res = await withOptions(options, { state, code: 'made-up-code', iss: op.issuer }, cookie);
    expect([res.status, res.body.error]).toEqual([400, 'invalid_grant']);
    expect(op.tokenRequests).toHaveLength(1);
    const { params } = op.tokenRequests[0]!;
    expect(params).toMatchObject({ grant_type: 'authorization_code', code: 'made-up-code', redirect_uri: `${app.url}/callback-with`, ext_hint: 'x', ext_count: '5', ext_flag: 'true' });
    expect('ext_none' in params).toBe(false);
  });

  test('without a redirectUri, the exchange uses the one the login sent, else baseURL + routes.callback', async () => {
    for (const [sent, expected] of [[`${app.url}/callback-with`, `${app.url}/callback-with`], [undefined, `${app.url}/callback`]] as const) {
      const { state, cookie } = login(sent === undefined ? {} : { redirectUri: sent });
      op.resetCounts();
      await withOptions({}, { state, code: 'made-up-code', iss: op.issuer }, cookie);
      expect(op.tokenRequests.map((request) => request.params.redirect_uri)).toEqual([expected]);
    }
  });

  test('with routes.callback: false and no redirect URI anywhere, the callback fails naming what to pass (500), before the OP is asked', async () => {
    const own = await startApp(op.issuer, await freePort(), { routes: { callback: false } }, (express) => {
      express.get('/callback', (req, res) => res.oidc.callback());
    });
    try {
      const { state, cookie } = login();
      op.resetCounts();
      const res = await callback({ state, code: 'made-up-code', iss: op.issuer }, cookie, 'GET', `${own.url}/callback`);
      expect([res.status, res.body.code, res.body.message]).toEqual([
        500,
        'ERR_CONFIG_INVALID',
        'routes.callback is false: pass authorizationParams.redirect_uri (in auth() or res.oidc.login()) and the same redirectUri to res.oidc.callback()',
      ]);
      expect((own.errors.at(-1) as OidcError).expose).toBe(false);
      expect(op.tokenRequests).toEqual([]);
    } finally {
      await own.close();
    }
  });
});
