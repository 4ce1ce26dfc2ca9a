/**
 * The token API of `req.oidc`: auto-refresh on and off, `accessToken.refresh()`,
 * `getAccessToken()` errors, `fetchUserInfo()` with a fresh token.
 */
import { USERS } from '../helpers/op.js';
import {
  JSON_ACCEPT,
  signIn,
  startRefreshSetup,
  stored,
  untilDue,
  untilExpired,
  type RefreshSetup,
} from '../helpers/refresh-app.js';

let setup: RefreshSetup;
afterEach(async () => {
  await setup?.close();
});

const accessTokenOf = (body: string): string => (JSON.parse(body) as { access_token: string }).access_token;

describe('auto-refresh', () => {
  test('on (default): a due token is refreshed before the route runs, so req.oidc.accessToken is fresh', async () => {
    setup = await startRefreshSetup({ accessTokenTTL: 2 });
    const browser = await signIn(setup);
    const before = await stored(setup, browser);
    const early = await browser.get(`${setup.app.url}/at`, JSON_ACCEPT);
    expect(accessTokenOf(early.body)).toBe(before!.access_token);
    expect(setup.op.counts.token.refresh_token ?? 0).toBe(0);

    await untilDue(before!);
    const res = await browser.get(`${setup.app.url}/at`, JSON_ACCEPT);
    const token = accessTokenOf(res.body);
    expect(token).not.toBe(before!.access_token);
    expect(setup.op.counts.token.refresh_token).toBe(1);
    expect((await stored(setup, browser))?.access_token).toBe(token);
  });

  test('off: routes see the stored token until getAccessToken() refreshes it', async () => {
    setup = await startRefreshSetup({ accessTokenTTL: 2 }, { autoRefresh: false });
    const browser = await signIn(setup);
    const before = await stored(setup, browser);
    await untilExpired(before!);

    const stale = JSON.parse((await browser.get(`${setup.app.url}/at`, JSON_ACCEPT)).body) as { access_token: string; expires_at: number };
    expect(stale.access_token).toBe(before!.access_token);
    expect(setup.op.counts.token.refresh_token ?? 0).toBe(0);
    // requiresAuth() does not need a fresh token: the user is signed in.
    expect((await browser.get(`${setup.app.url}/profile`, JSON_ACCEPT)).status).toBe(200);

    const fresh = accessTokenOf((await browser.get(`${setup.app.url}/token`, JSON_ACCEPT)).body);
    expect(fresh).not.toBe(before!.access_token);
    expect(setup.op.counts.token.refresh_token).toBe(1);
    expect(accessTokenOf((await browser.get(`${setup.app.url}/at`, JSON_ACCEPT)).body)).toBe(fresh);
  });

  test('the refreshLeeway option decides when a token is due', async () => {
    // 4 s tokens: the default leeway (60 s, capped at half the lifetime) makes them due after 2 s;
    // a leeway of 0 only at expiry.
    setup = await startRefreshSetup({ accessTokenTTL: 4 }, { refreshLeeway: 0 });
    const browser = await signIn(setup);
    const before = await stored(setup, browser);
    await untilDue(before!, 60);
    expect(accessTokenOf((await browser.get(`${setup.app.url}/at`, JSON_ACCEPT)).body)).toBe(before!.access_token);
    await untilExpired(before!);
    expect(accessTokenOf((await browser.get(`${setup.app.url}/at`, JSON_ACCEPT)).body)).not.toBe(before!.access_token);
    expect(setup.op.counts.token.refresh_token).toBe(1);
  });
});

/** Long-lived tokens and the default app, shared by the tests that need no expiry. */
describe('with long-lived tokens', () => {
  let shared: RefreshSetup;
  beforeAll(async () => {
    shared = await startRefreshSetup({ accessTokenTTL: 60 }, {}, (app) => {
      app.get('/bad-options', async (req, res, next) => {
        try {
          await req.oidc.getAccessToken({ scope: '' });
          res.json({ ok: true });
        } catch (err) {
          next(err);
        }
      });
    });
  });
  afterAll(async () => {
    await shared?.close();
  });
  beforeEach(() => {
    shared.op.resetCounts();
  });

  test('accessToken.refresh() refreshes now and returns the new token; concurrent calls never redeem one refresh token twice', async () => {
    const setup = shared;
    const browser = await signIn(setup);
    const before = await stored(setup, browser);

    const one = await browser.post(`${setup.app.url}/refresh`, {}, JSON_ACCEPT);
    expect(one.status).toBe(200);
    const token = accessTokenOf(one.body);
    expect(token).not.toBe(before!.access_token);
    expect((await stored(setup, browser))?.access_token).toBe(token);
    expect(setup.op.counts.token.refresh_token).toBe(1);

    setup.op.resetCounts();
    const many = await Promise.all(Array.from({ length: 5 }, () => browser.post(`${setup.app.url}/refresh`, {}, JSON_ACCEPT)));
    expect(many.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    // Calls that overlap share a refresh, later ones refresh again (they asked for it): each grant
    // at the OP produced one token that was handed out, and none failed.
    const tokens = new Set(many.map((r) => accessTokenOf(r.body)));
    expect(setup.op.counts.token.refresh_token).toBe(tokens.size);
    expect((await browser.get(`${setup.app.url}/profile`, JSON_ACCEPT)).status).toBe(200);
    expect((await browser.post(`${setup.app.url}/refresh`, {}, JSON_ACCEPT)).status).toBe(200);
  });

  test('getAccessToken() returns the stored token while it is fresh (no request to the OP)', async () => {
    const setup = shared;
    const browser = await signIn(setup);
    const before = await stored(setup, browser);
    setup.op.resetCounts();
    const res = await browser.get(`${setup.app.url}/token`, JSON_ACCEPT);
    expect(accessTokenOf(res.body)).toBe(before!.access_token);
    expect(setup.op.counts.token).toEqual({});
  });

  test('getAccessToken() without a session: 401 ERR_NOT_AUTHENTICATED', async () => {
    const res = await fetch(`${shared.app.url}/token`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { code: string }).code).toBe('ERR_NOT_AUTHENTICATED');
  });

  test('getAccessToken() rejects malformed options with a typed error', async () => {
    const browser = await signIn(shared);
    const res = await browser.get(`${shared.app.url}/bad-options`, JSON_ACCEPT);
    expect(res.status).toBe(500);
    expect(JSON.parse(res.body).code).toBe('ERR_CONFIG_INVALID');
  });
});

describe('getAccessToken()', () => {

  test('an expired token without a refresh token: 401 ERR_REFRESH_UNAVAILABLE, still signed in', async () => {
    setup = await startRefreshSetup({ accessTokenTTL: 2 }, {
      afterCallback: (_req, _res, session) => {
        const { refresh_token: _dropped, ...rest } = session;
        return rest;
      },
    });
    const browser = await signIn(setup);
    const before = await stored(setup, browser);
    expect(before?.refresh_token).toBeUndefined();
    await untilExpired(before!);
    const res = await browser.get(`${setup.app.url}/token`, JSON_ACCEPT);
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body).code).toBe('ERR_REFRESH_UNAVAILABLE');
    expect((await browser.get(`${setup.app.url}/profile`, JSON_ACCEPT)).status).toBe(200);
  });

});

describe('fetchUserInfo()', () => {
  test('uses a fresh access token', async () => {
    setup = await startRefreshSetup({ accessTokenTTL: 2 }, { autoRefresh: false });
    const browser = await signIn(setup);
    const before = await stored(setup, browser);
    // The OP refuses an expired access token at its userinfo endpoint.
    await untilExpired(before!);
    setup.op.resetCounts();

    const res = await browser.get(`${setup.app.url}/userinfo`, JSON_ACCEPT);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ sub: USERS.alice.sub, email: USERS.alice.email });
    expect(setup.op.counts.token.refresh_token).toBe(1);
    expect(setup.op.counts.userinfo).toBe(1);
    expect((await stored(setup, browser))?.access_token).not.toBe(before!.access_token);
  });
});
