/**
 * How a refresh response is merged into the session: a missing refresh token keeps the old one,
 * a new ID token is validated (same user) and updates the claims, a reduced scope is handed out
 * without replacing the session's token, and the expiry is recomputed.
 */
import { AuthClient } from '../../src/index.js';
import { TEST_CLIENT_ID, TEST_CLIENT_SECRET, USERS } from '../helpers/op.js';
import {
  JSON_ACCEPT,
  errorTexts,
  expectNoSecrets,
  signIn,
  startRefreshSetup,
  stored,
  tokenValues,
  untilDue,
  type RefreshSetup,
} from '../helpers/refresh-app.js';

let setup: RefreshSetup;
afterEach(async () => {
  await setup?.close();
});

const nowSeconds = () => Math.floor(Date.now() / 1000);

test('no refresh token in the response (rotation off): the old one is kept and keeps working', async () => {
  setup = await startRefreshSetup({ accessTokenTTL: 60, rotateRefreshTokens: false, omitUnrotatedRefreshToken: true });
  const browser = await signIn(setup);
  const before = await stored(setup, browser);

  // This OP really answers without a refresh token.
  const direct = await new AuthClient({ issuerBaseURL: setup.op.issuer, clientID: TEST_CLIENT_ID, clientSecret: TEST_CLIENT_SECRET }).refreshToken({
    refreshToken: before!.refresh_token!,
  });
  expect(direct.refreshToken).toBeUndefined();

  for (let i = 1; i <= 2; i += 1) {
    const res = await browser.post(`${setup.app.url}/refresh`, {}, JSON_ACCEPT);
    expect(res.status).toBe(200);
    const after = await stored(setup, browser);
    expect(after?.refresh_token).toBe(before!.refresh_token);
    expect(after?.access_token).toBe((JSON.parse(res.body) as { access_token: string }).access_token);
    expect(after?.access_token).not.toBe(before!.access_token);
    expect(after?.v).toBe(before!.v + i);
  }
});

test('a rotated refresh token replaces the old one', async () => {
  setup = await startRefreshSetup({ accessTokenTTL: 60 });
  const browser = await signIn(setup);
  const before = await stored(setup, browser);
  expect((await browser.post(`${setup.app.url}/refresh`, {}, JSON_ACCEPT)).status).toBe(200);
  const after = await stored(setup, browser);
  expect(after?.refresh_token).toBeDefined();
  expect(after?.refresh_token).not.toBe(before!.refresh_token);
});

test('expires_at is recomputed from expires_in', async () => {
  setup = await startRefreshSetup({ accessTokenTTL: 60 });
  const browser = await signIn(setup);
  const res = await browser.post(`${setup.app.url}/refresh`, {}, JSON_ACCEPT);
  const at = nowSeconds();
  const after = await stored(setup, browser);
  expect(after?.expires_at).toBeGreaterThanOrEqual(at + 60 - 2);
  expect(after?.expires_at).toBeLessThanOrEqual(at + 60);
  expect(after?.issued_at).toBeGreaterThanOrEqual(at - 2);
  expect((JSON.parse(res.body) as { expires_at: number }).expires_at).toBe(after?.expires_at);
  const view = await browser.get(`${setup.app.url}/at`, JSON_ACCEPT);
  expect((JSON.parse(view.body) as { expires_at: number }).expires_at).toBe(after?.expires_at);
});

describe('a new ID token', () => {
  test('is validated and updates the claims', async () => {
    setup = await startRefreshSetup({ accessTokenTTL: 60 });
    const browser = await signIn(setup);
    const before = await stored(setup, browser);
    setup.op.tamperIdToken((claims) => ({ claims: { ...claims, name: 'Alice Refreshed' } }));

    expect((await browser.post(`${setup.app.url}/refresh`, {}, JSON_ACCEPT)).status).toBe(200);
    const after = await stored(setup, browser);
    expect(after?.id_token).not.toBe(before!.id_token);
    const home = JSON.parse((await browser.get(`${setup.app.url}/`, JSON_ACCEPT)).body) as { authenticated: boolean; user: Record<string, unknown> };
    expect(home.authenticated).toBe(true);
    expect(home.user.sub).toBe(USERS.alice.sub);
    expect(home.user.name).toBe('Alice Refreshed');
  });

  test.each([
    ['about another user', () => ({ claims: { sub: USERS.bob.sub } })],
    ['signed with a key the OP does not publish', () => ({ signWith: 'foreign' as const })],
    ['for another audience', (claims: Record<string, unknown>) => ({ claims: { ...claims, aud: 'another-client' } })],
  ])('%s signs the session out with ERR_REFRESH_FAILED', async (_name, tamper) => {
    setup = await startRefreshSetup({ accessTokenTTL: 60 });
    const browser = await signIn(setup);
    const before = await stored(setup, browser);
    setup.op.tamperIdToken((claims) => {
      const change = tamper(claims);
      return 'claims' in change && change.claims !== undefined ? { claims: { ...claims, ...change.claims } } : change;
    });

    const res = await browser.post(`${setup.app.url}/refresh`, {}, JSON_ACCEPT);
    expect(res.status).toBe(401);
    const body = JSON.parse(res.body) as { code: string; message: string };
    expect(body.code).toBe('ERR_REFRESH_FAILED');
    expect(body.message).toMatch(/^refresh failed: .*sign in again$/);
    expect(await stored(setup, browser)).toBeUndefined();
    expect(JSON.parse((await browser.get(`${setup.app.url}/`, JSON_ACCEPT)).body).authenticated).toBe(false);
    expectNoSecrets(errorTexts(setup.app.errors), tokenValues(before));
  });
});

describe('a reduced scope', () => {
  test('is handed out for the call; the session keeps its token and takes the rotated refresh token', async () => {
    setup = await startRefreshSetup({ accessTokenTTL: 60 }, {}, (app) => {
      app.get('/scoped-refresh', async (req, res, next) => {
        try {
          const first = await req.oidc.getAccessToken({ scope: 'openid' });
          const second = await first.refresh();
          res.json({ first: first.scope, second: second.scope, differ: first.access_token !== second.access_token });
        } catch (err) {
          next(err);
        }
      });
    });
    const browser = await signIn(setup);
    const before = await stored(setup, browser);
    setup.op.resetCounts();

    const res = await browser.get(`${setup.app.url}/scoped?scope=${encodeURIComponent('openid profile')}`, JSON_ACCEPT);
    expect(res.status).toBe(200);
    const token = JSON.parse(res.body) as { access_token: string; scope: string };
    expect(token.scope).toBe('openid profile');
    expect(token.access_token).not.toBe(before!.access_token);
    expect(setup.op.tokenRequests).toHaveLength(1);
    expect(setup.op.tokenRequests[0]?.params.scope).toBe('openid profile');

    const after = await stored(setup, browser);
    expect(after?.access_token).toBe(before!.access_token);
    expect(after?.scope).toBe(before!.scope);
    expect(after?.id_token).toBe(before!.id_token);
    expect(after?.refresh_token).not.toBe(before!.refresh_token);
    expect(after?.v).toBe(before!.v + 1);

    // Refreshing a reduced-scope token asks for the same scope again.
    const again = JSON.parse((await browser.get(`${setup.app.url}/scoped-refresh`, JSON_ACCEPT)).body) as Record<string, unknown>;
    expect(again).toEqual({ first: 'openid', second: 'openid', differ: true });

    // The session's refresh token is still the live one.
    expect((await browser.post(`${setup.app.url}/refresh`, {}, JSON_ACCEPT)).status).toBe(200);
    expect(JSON.parse((await browser.get(`${setup.app.url}/`, JSON_ACCEPT)).body).authenticated).toBe(true);
  });
});

test('tokenEndpointParams of auth() and of getAccessToken() reach the OP with the refresh', async () => {
  setup = await startRefreshSetup({ accessTokenTTL: 2 }, { autoRefresh: false, tokenEndpointParams: { from_config: 'yes' } });
  const browser = await signIn(setup);
  const before = await stored(setup, browser);
  await untilDue(before!);
  setup.op.resetCounts();

  const res = await browser.get(`${setup.app.url}/with-params`, JSON_ACCEPT);
  expect(res.status).toBe(200);
  expect(setup.op.tokenRequests).toHaveLength(1);
  expect(setup.op.tokenRequests[0]).toMatchObject({ grantType: 'refresh_token', params: { from_config: 'yes', probe: 'from-getAccessToken' } });
});
