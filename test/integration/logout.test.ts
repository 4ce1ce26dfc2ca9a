/**
 * /logout and res.oidc.logout(): the local session ends on the server; with idpLogout the browser
 * also ends its session at the OP's end_session_endpoint and comes back to the app.
 */
import { Browser } from '../helpers/browser.js';
import { startApp, type TestApp } from '../helpers/app.js';
import { clientsFor, freePorts, whoAmI } from '../helpers/flow.js';
import { createTestOP, type TestOP } from '../helpers/op.js';

let op: TestOP;
let app: TestApp;
let idpApp: TestApp;

const customRoutes = (express: TestApp['app']) => {
  express.get('/id-token', (req, res) => res.json({ idToken: req.oidc.idToken ?? null }));
  express.get('/sign-out', (req, res) => res.oidc.logout({ returnTo: '/bye' }));
  express.get('/bye', (_req, res) => res.json({ bye: true }));
};

beforeAll(async () => {
  const ports = await freePorts(2);
  const bases = ports.map((p) => `http://127.0.0.1:${p}`);
  op = await createTestOP({ appBaseURL: bases[0], clients: clientsFor(bases) });
  app = await startApp(op.issuer, ports[0] ?? 0, {}, customRoutes);
  idpApp = await startApp(op.issuer, ports[1] ?? 0, { idpLogout: true, logoutParams: { ui_locales: 'en' } }, customRoutes);
});
afterAll(async () => {
  await Promise.all([app?.close(), idpApp?.close()]);
  await op?.stop();
});

/** Credentials the OP refuses: a login that completes with them did not need a password. */
const WRONG_PASSWORD = { username: 'alice', password: 'not-her-password' };

function sessionCookie(browser: Browser): string {
  const cookie = browser.cookies.get('appSession');
  if (!cookie) throw new Error('no session cookie');
  return `appSession=${cookie.value}`;
}

async function replay(appUrl: string, cookie: string): Promise<boolean> {
  const res = await fetch(`${appUrl}/`, { headers: { cookie, accept: 'application/json' } });
  return ((await res.json()) as { authenticated: boolean }).authenticated;
}

test('local logout ends the session on the server; the OP session stays', async () => {
  const browser = new Browser();
  await op.signIn(browser, `${app.url}/login`);
  const cookie = sessionCookie(browser);

  const res = await browser.get(`${app.url}/logout`, { follow: false });
  expect(res.status).toBe(302);
  expect(res.headers.get('location')).toBe(`${app.url}/`);
  expect(res.headers.getSetCookie().some((c) => /^appSession=;/.test(c))).toBe(true);
  expect((await whoAmI(browser, app.url)).authenticated).toBe(false);
  // A copy of the old cookie is worth nothing: the session is gone from the store.
  expect(await replay(app.url, cookie)).toBe(false);

  // Still signed in at the OP: the next login completes without the password.
  const again = await op.signIn(browser, `${app.url}/login`, WRONG_PASSWORD);
  expect(again.url).toBe(`${app.url}/`);
  expect((await whoAmI(browser, app.url)).authenticated).toBe(true);
});

test('logout returnTo: a path on the app is followed, another origin falls back to baseURL', async () => {
  const browser = new Browser();
  await op.signIn(browser, `${app.url}/login`);
  const res = await browser.get(`${app.url}/logout?returnTo=/bye`);
  expect(res.url).toBe(`${app.url}/bye`);

  await op.signIn(browser, `${app.url}/login`);
  const hostile = await browser.get(`${app.url}/logout?returnTo=${encodeURIComponent('//evil.example.com')}`, { follow: false });
  expect(hostile.headers.get('location')).toBe(`${app.url}/`);
});

test('logout without a session just redirects', async () => {
  const res = await new Browser().get(`${app.url}/logout`, { follow: false });
  expect(res.status).toBe(302);
  expect(res.headers.get('location')).toBe(`${app.url}/`);
});

test('res.oidc.logout() from a custom route', async () => {
  const browser = new Browser();
  await op.signIn(browser, `${app.url}/login`);
  const res = await browser.get(`${app.url}/sign-out`);
  expect(res.url).toBe(`${app.url}/bye`);
  expect((await whoAmI(browser, app.url)).authenticated).toBe(false);
});

test('idpLogout: the OP end_session_endpoint with id_token_hint and post_logout_redirect_uri, then back to the app', async () => {
  const browser = new Browser();
  await op.signIn(browser, `${idpApp.url}/login`);
  const idToken = (JSON.parse((await browser.get(`${idpApp.url}/id-token`)).body) as { idToken: string }).idToken;
  const cookie = sessionCookie(browser);

  const res = await browser.get(`${idpApp.url}/logout`, { follow: false });
  expect(res.status).toBe(302);
  const url = new URL(res.headers.get('location') ?? '');
  expect(`${url.origin}${url.pathname}`).toBe(`${op.issuer}/session/end`);
  expect(url.searchParams.get('id_token_hint')).toBe(idToken);
  expect(url.searchParams.get('post_logout_redirect_uri')).toBe(`${idpApp.url}/`);
  expect(url.searchParams.get('client_id')).toBe('test-client');
  expect(url.searchParams.get('ui_locales')).toBe('en');
  // The local session ended before the browser left.
  expect(await replay(idpApp.url, cookie)).toBe(false);

  // Confirm at the OP: it ends its session and sends the browser back.
  const page = await browser.get(url.href);
  const back = await browser.submitForm(page, { logout: 'yes' });
  expect(back.url).toBe(`${idpApp.url}/`);
  expect(JSON.parse(back.body).authenticated).toBe(false);

  // Signed out at the OP too: the next login asks for the password again.
  const again = await op.signIn(browser, `${idpApp.url}/login`, WRONG_PASSWORD);
  expect(new URL(again.url).origin).toBe(op.issuer);
  expect(again.body).toMatch(/Wrong email or password/);
});

test('idpLogout with res.oidc.logout({ returnTo }) uses it as post_logout_redirect_uri', async () => {
  const browser = new Browser();
  await op.signIn(browser, `${idpApp.url}/login`);
  const res = await browser.get(`${idpApp.url}/sign-out`, { follow: false });
  const url = new URL(res.headers.get('location') ?? '');
  expect(url.searchParams.get('post_logout_redirect_uri')).toBe(`${idpApp.url}/bye`);
});
