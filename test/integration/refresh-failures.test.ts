/**
 * What a failed refresh does: a revoked refresh token (invalid_grant) signs the session out; an OP
 * that is down keeps the user signed in and the next request tries again. No token value ever
 * appears in an error.
 */
import type session from 'express-session';
import { AuthClient, MemoryStore, OidcError } from '../../src/index.js';
import { REFRESH_FAILURE_BACKOFF_MS } from '../../src/refresh/index.js';
import { TEST_CLIENT_ID, TEST_CLIENT_SECRET } from '../helpers/op.js';
import {
  JSON_ACCEPT,
  errorTexts,
  sleep,
  expectNoSecrets,
  signIn,
  startRefreshSetup,
  stored,
  storedRecord,
  tokenValues,
  untilDue,
  untilExpired,
  type RefreshSetup,
} from '../helpers/refresh-app.js';

let setup: RefreshSetup;
afterEach(async () => {
  await setup?.close();
});

function opClient(): AuthClient {
  return new AuthClient({ issuerBaseURL: setup.op.issuer, clientID: TEST_CLIENT_ID, clientSecret: TEST_CLIENT_SECRET });
}

describe('a revoked refresh token (invalid_grant)', () => {
  test('getAccessToken() throws ERR_REFRESH_FAILED with the OP error, the tokens are cleared, requiresAuth() asks for a login', async () => {
    setup = await startRefreshSetup({}, { autoRefresh: false });
    const browser = await signIn(setup);
    const before = await stored(setup, browser);
    await opClient().revokeRefreshToken({ refreshToken: before!.refresh_token! });
    await untilDue(before!);

    const res = await browser.get(`${setup.app.url}/token`, JSON_ACCEPT);
    expect(res.status).toBe(401);
    const body = JSON.parse(res.body) as { code: string; error: string; message: string };
    expect(body.code).toBe('ERR_REFRESH_FAILED');
    expect(body.error).toBe('invalid_grant');
    const err = setup.app.errors[0] as OidcError;
    expect(err).toBeInstanceOf(OidcError);
    expect(err.code).toBe('ERR_REFRESH_FAILED');

    // The session's tokens are gone from the store; the session record itself stays.
    const record = await storedRecord(setup, browser);
    expect(record).not.toBeNull();
    expect(record?.oidc).toBeUndefined();

    const home = await browser.get(`${setup.app.url}/`, JSON_ACCEPT);
    expect(JSON.parse(home.body).authenticated).toBe(false);
    const profile = await browser.get(`${setup.app.url}/profile`, { follow: false });
    expect(profile.status).toBe(302);
    expect(profile.headers.get('location')).toContain(`${setup.op.issuer}/auth`);
    const api = await browser.get(`${setup.app.url}/token`, JSON_ACCEPT);
    expect(api.status).toBe(401);
    expect(JSON.parse(api.body).code).toBe('ERR_NOT_AUTHENTICATED');

    expectNoSecrets(errorTexts(setup.app.errors), tokenValues(before));
  });

  test('with auto-refresh, the next page load after expiry is sent to login', async () => {
    setup = await startRefreshSetup();
    const browser = await signIn(setup);
    const before = await stored(setup, browser);
    await opClient().revokeRefreshToken({ refreshToken: before!.refresh_token! });
    await untilDue(before!);
    setup.op.resetCounts();

    const profile = await browser.get(`${setup.app.url}/profile`, { follow: false });
    expect(profile.status).toBe(302);
    expect(profile.headers.get('location')).toContain(`${setup.op.issuer}/auth`);
    expect(setup.op.counts.token.refresh_token).toBe(1);
    expect((await stored(setup, browser))).toBeUndefined();

    // A sign-in afterwards works normally.
    const again = await setup.op.signIn(browser, `${setup.app.url}/login`);
    expect(JSON.parse(again.body).authenticated).toBe(true);
  });

  test('a refresh token redeemed elsewhere (rotation reuse) also signs the session out cleanly', async () => {
    setup = await startRefreshSetup({}, { autoRefresh: false });
    const browser = await signIn(setup);
    const before = await stored(setup, browser);
    // Someone else redeems the session's refresh token first: the app's copy is now a rotated one.
    const stolen = await opClient().refreshToken({ refreshToken: before!.refresh_token! });
    await untilDue(before!);

    const res = await browser.get(`${setup.app.url}/token`, JSON_ACCEPT);
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'ERR_REFRESH_FAILED', error: 'invalid_grant' });
    expect(await stored(setup, browser)).toBeUndefined();
    expectNoSecrets(errorTexts(setup.app.errors), [...tokenValues(before), stolen.accessToken, stolen.refreshToken ?? '']);
  });
});

describe('the OP is down during a refresh', () => {
  test('getAccessToken() throws ERR_OP_UNREACHABLE, the user stays signed in, and it recovers when the OP is back', async () => {
    setup = await startRefreshSetup();
    const browser = await signIn(setup);
    const before = await stored(setup, browser);
    await untilExpired(before!);

    await setup.op.stop();
    const res = await browser.get(`${setup.app.url}/token`, JSON_ACCEPT);
    expect(res.status).toBe(502);
    expect(JSON.parse(res.body).code).toBe('ERR_OP_UNREACHABLE');
    // One failed attempt per request: auto-refresh failed, getAccessToken() reported that failure.
    expect(setup.app.errors).toHaveLength(1);

    expect(await stored(setup, browser)).toMatchObject({ access_token: before!.access_token, refresh_token: before!.refresh_token, v: before!.v });
    const profile = await browser.get(`${setup.app.url}/profile`, JSON_ACCEPT);
    expect(profile.status).toBe(200);
    const home = await browser.get(`${setup.app.url}/`, JSON_ACCEPT);
    expect(JSON.parse(home.body).authenticated).toBe(true);

    await setup.op.start();
    // Within the failure backoff the session fails fast without calling the OP again.
    const backingOff = await browser.get(`${setup.app.url}/token`, JSON_ACCEPT);
    expect(backingOff.status).toBe(503);
    expect(setup.op.counts.token.refresh_token ?? 0).toBe(0);
    await sleep(REFRESH_FAILURE_BACKOFF_MS);
    setup.op.resetCounts();
    const recovered = await browser.get(`${setup.app.url}/token`, JSON_ACCEPT);
    expect(recovered.status).toBe(200);
    const token = (JSON.parse(recovered.body) as { access_token: string }).access_token;
    expect(token).not.toBe(before!.access_token);
    expect(setup.op.counts.token.refresh_token).toBe(1);
    expect((await stored(setup, browser))?.access_token).toBe(token);

    expectNoSecrets(errorTexts(setup.app.errors), tokenValues(before));
  });

  test('accessToken.refresh() also reports the outage as a typed error and keeps the tokens', async () => {
    setup = await startRefreshSetup({ accessTokenTTL: 60 });
    const browser = await signIn(setup);
    const before = await stored(setup, browser);
    await setup.op.stop();
    const res = await browser.post(`${setup.app.url}/refresh`, {}, JSON_ACCEPT);
    expect(res.status).toBe(502);
    expect(JSON.parse(res.body).code).toBe('ERR_OP_UNREACHABLE');
    expect(await stored(setup, browser)).toMatchObject({ access_token: before!.access_token, v: before!.v });
    await setup.op.start();
    await sleep(REFRESH_FAILURE_BACKOFF_MS);
    expect((await browser.post(`${setup.app.url}/refresh`, {}, JSON_ACCEPT)).status).toBe(200);
    expectNoSecrets(errorTexts(setup.app.errors), tokenValues(before));
  });
});

describe('an OP error other than invalid_grant', () => {
  test('keeps the tokens and reports a 5xx ERR_OP_ERROR with the OP error', async () => {
    // A scope the refresh token was not granted: the OP answers invalid_scope.
    setup = await startRefreshSetup({ accessTokenTTL: 60 });
    const browser = await signIn(setup);
    const before = await stored(setup, browser);
    const res = await browser.get(`${setup.app.url}/scoped?scope=${encodeURIComponent('openid admin:everything')}`, JSON_ACCEPT);
    expect(res.status).toBe(502);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'ERR_OP_ERROR', error: 'invalid_scope' });
    expect(await stored(setup, browser)).toMatchObject({ access_token: before!.access_token, refresh_token: before!.refresh_token });
    expect((await browser.get(`${setup.app.url}/profile`, JSON_ACCEPT)).status).toBe(200);
    expectNoSecrets(errorTexts(setup.app.errors), tokenValues(before));
  });
});

describe('the session store fails to take the refreshed tokens', () => {
  /** An in-process store whose next writes fail, as a store that drops its connection does. */
  class FlakyStore extends MemoryStore {
    failingWrites = 0;
    override set(sid: string, sess: session.SessionData, callback?: (err?: unknown) => void): void {
      if (this.failingWrites > 0) {
        this.failingWrites -= 1;
        callback?.(new Error('connection lost'));
        return;
      }
      super.set(sid, sess, callback);
    }
  }

  test('the rotated tokens are not lost: the request saves them with its session', async () => {
    const store = new FlakyStore();
    setup = await startRefreshSetup({ accessTokenTTL: 60 }, {}, undefined, store);
    const browser = await signIn(setup);
    const before = await stored(setup, browser);

    store.failingWrites = 1;
    const res = await browser.post(`${setup.app.url}/refresh`, {}, JSON_ACCEPT);
    expect(res.status).toBe(200);
    expect(store.failingWrites).toBe(0);
    const after = await stored(setup, browser);
    expect(after?.access_token).toBe((JSON.parse(res.body) as { access_token: string }).access_token);
    expect(after?.refresh_token).not.toBe(before!.refresh_token);
    expect(after?.v).toBe(before!.v + 1);
    // The stored refresh token is the live one.
    expect((await browser.post(`${setup.app.url}/refresh`, {}, JSON_ACCEPT)).status).toBe(200);
  });

  test('while the store refuses writes, later refreshes (session and reduced scope) redeem the newest refresh token, and it lands once the store is back', async () => {
    const store = new FlakyStore();
    setup = await startRefreshSetup({ accessTokenTTL: 60 }, {}, undefined, store);
    const browser = await signIn(setup);
    const before = await stored(setup, browser);
    setup.op.resetCounts();

    store.failingWrites = 1_000;
    // Each request loads the stored (old) session; this process holds the newer tokens.
    expect((await browser.post(`${setup.app.url}/refresh`, {}, JSON_ACCEPT)).status).toBe(200);
    expect((await browser.post(`${setup.app.url}/refresh`, {}, JSON_ACCEPT)).status).toBe(200);
    expect((await browser.get(`${setup.app.url}/scoped?scope=openid`, JSON_ACCEPT)).status).toBe(200);
    expect((await stored(setup, browser))?.refresh_token).toBe(before!.refresh_token);
    const presented = setup.op.tokenRequests.map((r) => r.params.refresh_token);
    expect(new Set(presented).size).toBe(presented.length);

    store.failingWrites = 0;
    let after = await stored(setup, browser);
    for (let i = 0; i < 50 && after?.v === before!.v; i += 1) {
      await sleep(100);
      after = await stored(setup, browser);
    }
    expect(after?.v).toBe(before!.v + 3);
    expect((await browser.post(`${setup.app.url}/refresh`, {}, JSON_ACCEPT)).status).toBe(200);
    const all = setup.op.tokenRequests.map((r) => r.params.refresh_token);
    expect(new Set(all).size).toBe(all.length);
  });
});
