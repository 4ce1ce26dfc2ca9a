/**
 * The patterns of express-openid-connect's README and EXAMPLES.md, each as a
 * small app in that library's style with only the import changed
 * (test/migration/apps), signing in against the real test OP.
 */
import { Browser } from '../helpers/browser.js';
import { USERS, type TestOP } from '../helpers/op.js';
import { startMigrationApp, startOP, type MigrationApp } from './harness.js';

const NAMES = ['basic', 'routes', 'custom-routes', 'access-an-api', 'userinfo', 'claims', 'custom-session-store', 'attempt-silent-login', 'login-state', 'logout'] as const;
type Name = (typeof NAMES)[number];

let op: TestOP;
const apps = {} as Record<Name, MigrationApp>;

beforeAll(async () => {
  const started = await startOP(NAMES.length, { accessTokenTTL: 4, rotateRefreshTokens: true });
  op = started.op;
  for (const [i, name] of NAMES.entries()) apps[name] = await startMigrationApp(name, op, started.ports[i] as number);
});
afterAll(async () => {
  for (const app of Object.values(apps)) await app.close();
  await op?.stop();
});
beforeEach(() => op.resetCounts());

const JSON_ACCEPT = { headers: { accept: 'application/json' } };

test('basic: every route sends the browser to log in, and back to the page', async () => {
  const browser = new Browser();
  const res = await op.signIn(browser, `${apps.basic.url}/`);
  expect(res.status).toBe(200);
  expect(res.url).toBe(`${apps.basic.url}/`);
  expect(res.body).toBe(`hello ${USERS.alice.sub}`);
});

test('routes: the home page is open, requiresAuth() guards /admin', async () => {
  const browser = new Browser();
  const home = await browser.get(`${apps.routes.url}/`);
  expect(home.body).toContain('Admin Section');
  const admin = await op.signIn(browser, `${apps.routes.url}/admin`);
  expect(admin.url).toBe(`${apps.routes.url}/admin`);
  expect(admin.body).toBe(`Hello ${USERS.alice.sub}, this is the admin section.`);
});

test("custom routes: the app's own /login and /callback handlers run (routes.callback: false)", async () => {
  const browser = new Browser();
  const start = await browser.get(`${apps['custom-routes'].url}/login`, { follow: false });
  const authorize = new URL(start.headers.get('location') ?? '');
  expect(authorize.searchParams.get('redirect_uri')).toBe(`${apps['custom-routes'].url}/callback`);
  const landed = await op.signIn(browser, `${apps['custom-routes'].url}/login`);
  expect(landed.url).toBe(`${apps['custom-routes'].url}/profile`);
  expect(landed.body).toBe(`hello ${USERS.alice.sub}`);
  // the callback's response came from the app's handler
  const callbackHop = landed.redirects.findIndex((url) => url.startsWith(`${apps['custom-routes'].url}/callback`));
  expect(callbackHop).toBeGreaterThanOrEqual(0);
  expect(op.counts.token.authorization_code).toBe(1);
  // CallbackOptions.tokenEndpointParams reached the code exchange
  expect(op.tokenRequests.find((r) => r.grantType === 'authorization_code')?.params).toMatchObject({ via: 'app-callback', attempt: '1' });
});

test("custom routes: the callback response carries the app handler's header", async () => {
  const { authorizeUntilCallback } = await import('../helpers/flow.js');
  const browser = new Browser();
  const delivery = await authorizeUntilCallback(browser, `${apps['custom-routes'].url}/login`);
  const res = await browser.get(delivery.url.href, { follow: false });
  expect(res.headers.get('x-app-callback')).toBe('GET');
  expect(res.status).toBe(302);
  expect(res.headers.get('location')).toBe(`${apps['custom-routes'].url}/profile`);
});

test('custom routes: postLogoutRedirect is a path of the app', async () => {
  const browser = new Browser();
  await op.signIn(browser, `${apps['custom-routes'].url}/login`);
  const out = await browser.get(`${apps['custom-routes'].url}/logout`, { follow: false });
  // idpLogout: the OP sends the browser on to /custom-logout (a URL registered at the OP)
  expect(new URL(out.headers.get('location') ?? '').searchParams.get('post_logout_redirect_uri')).toBe(`${apps['custom-routes'].url}/custom-logout`);
  expect((await browser.get(`${apps['custom-routes'].url}/custom-logout`)).body).toBe('Bye!');
  // signed out; with routes.callback false and no redirect_uri in auth(), requiresAuth() cannot
  // start a login (express-openid-connect sent none, and the OP refused it): a 500 naming the fix
  const profile = await browser.get(`${apps['custom-routes'].url}/profile`, { follow: false, headers: { accept: 'text/html' } });
  expect(profile.status).toBe(500);
});

test('access an API: the token of the session, fresh after expiry; refresh() destructured, with loose parameters', async () => {
  const browser = new Browser();
  const first = await op.signIn(browser, `${apps['access-an-api'].url}/`);
  const before = JSON.parse(first.body) as { token_type: string; access_token: string };
  expect(before.token_type).toBe('Bearer');
  await new Promise((resolve) => setTimeout(resolve, 4_500));
  const later = JSON.parse((await browser.get(`${apps['access-an-api'].url}/`)).body) as { access_token: string };
  expect(later.access_token).not.toBe(before.access_token);
  op.resetCounts();
  const refreshed = await browser.get(`${apps['access-an-api'].url}/refresh`);
  expect(refreshed.status).toBe(200);
  expect((JSON.parse(refreshed.body) as { access_token: string }).access_token).not.toBe(later.access_token);
  expect(op.counts.token.refresh_token).toBe(1);
  const sent = op.tokenRequests.filter((r) => r.grantType === 'refresh_token').at(-1)?.params;
  expect(sent).toMatchObject({ note: 'migration', attempt: '1', dry: 'false' });
});

test('userinfo: fetchUserInfo() answers the OP\'s claims', async () => {
  const res = await op.signIn(new Browser(), `${apps.userinfo.url}/`);
  expect(JSON.parse(res.body)).toMatchObject({ sub: USERS.alice.sub, email: USERS.alice.email });
});

test('claims: claimEquals, claimIncludes and claimCheck((req, claims) => ...) let the right user through; a failed check is 403', async () => {
  const browser = new Browser();
  const alice = await op.signIn(browser, `${apps.claims.url}/alice`);
  expect(alice.body).toBe(`Hello ${USERS.alice.sub}, this is Alice's section.`);
  expect((await browser.get(`${apps.claims.url}/audience`)).body).toBe('for this app');
  expect((await browser.get(`${apps.claims.url}/example-com`)).body).toContain('example.com section');
  // deliberately stricter: a signed-in user failing a check is refused, not sent to log in again
  const bob = await browser.get(`${apps.claims.url}/bob`, { follow: false });
  expect(bob.status).toBe(403);
  const promise = await browser.get(`${apps.claims.url}/promise`, { follow: false });
  expect(promise.status).toBe(500);
  expect(promise.body).not.toContain('should not be reached');
});

test('custom session store: memorystore(auth) keeps the session', async () => {
  const store = apps['custom-session-store'].module.store as { length(cb: (err: unknown, n: number) => void): void };
  const count = () => new Promise<number>((resolve, reject) => store.length((err, n) => (err ? reject(err) : resolve(n))));
  expect(await count()).toBe(0);
  const res = await op.signIn(new Browser(), `${apps['custom-session-store'].url}/`);
  expect(res.body).toBe(`hello ${USERS.alice.sub}`);
  expect(await count()).toBe(1);
});

test('silent login: attemptSilentLogin() signs in a browser that has a session at the OP', async () => {
  const browser = new Browser();
  await op.signIn(browser, `${apps.basic.url}/`);
  const res = await browser.get(`${apps['attempt-silent-login'].url}/`);
  expect(res.body).toBe(`hello ${USERS.alice.sub}`);
  expect(res.redirects.some((url) => new URL(url).searchParams.get('prompt') === 'none')).toBe(true);
  // a browser without an OP session stays anonymous
  const stranger = await new Browser().get(`${apps['attempt-silent-login'].url}/`);
  expect(stranger.body).toBe('anonymous');
});

test('afterCallback and getLoginState: app state carried through the login, the session extended', async () => {
  const browser = new Browser();
  const res = await op.signIn(browser, `${apps['login-state'].url}/profile?campaign=spring`);
  expect(res.url).toBe(`${apps['login-state'].url}/profile?campaign=spring`);
  expect(JSON.parse(res.body)).toEqual({ sub: USERS.alice.sub, campaign: 'spring', loginHost: '127.0.0.1' });
});

test('logout: a custom route with returnTo and logoutParams ends the session here and at the OP', async () => {
  const browser = new Browser();
  await op.signIn(browser, `${apps.logout.url}/profile`);
  const start = await browser.get(`${apps.logout.url}/logout`, { follow: false });
  const endSession = new URL(start.headers.get('location') ?? '');
  expect(endSession.pathname).toMatch(/session\/end/);
  expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(`${apps.logout.url}/`);
  expect(endSession.searchParams.get('tracking')).toBe('1');
  // null leaves out the configured parameter
  expect(endSession.searchParams.has('ui_locales')).toBe(false);
  expect((await browser.get(`${apps.logout.url}/`)).body).toBe('signed out');
});
