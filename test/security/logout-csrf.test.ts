/**
 * Logout CSRF: another site's link or redirect to `/logout` does not end the session (nor, with
 * `idpLogout`, the OP's); it gets a confirmation page that posts back. Links on the app's own
 * pages log out at once, and a cross-site POST is refused.
 */
import { Browser, type BrowserResponse } from '../helpers/browser.js';
import { freePorts, clientsFor, whoAmI } from '../helpers/flow.js';
import { startApp, type TestApp } from '../helpers/app.js';
import { createTestOP, type TestOP } from '../helpers/op.js';

let op: TestOP;
let app: TestApp;
let idpApp: TestApp;

beforeAll(async () => {
  const ports = (await freePorts(2)) as [number, number];
  const bases = ports.map((p) => `http://127.0.0.1:${p}`);
  op = await createTestOP({ appBaseURL: bases[0], clients: clientsFor(bases) });
  app = await startApp(op.issuer, ports[0]);
  idpApp = await startApp(op.issuer, ports[1], { idpLogout: true });
});
afterAll(async () => {
  await Promise.all([app?.close(), idpApp?.close()]);
  await op?.stop();
});

async function signedIn(target: TestApp = app): Promise<Browser> {
  const browser = new Browser();
  await op.signIn(browser, `${target.url}/login`);
  expect((await whoAmI(browser, target.url)).authenticated).toBe(true);
  return browser;
}

const CROSS_SITE = { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };

function isConfirmationPage(res: BrowserResponse): boolean {
  return res.status === 200 && /<form method="post" action="\/logout[^"]*"><button type="submit" id="confirm-logout">/.test(res.body);
}

test.each([
  ['Sec-Fetch-Site: cross-site', CROSS_SITE],
  ['an Origin of another site (no fetch metadata)', { origin: 'https://evil.example' }],
  ['a Referer of another site (no fetch metadata)', { referer: 'https://evil.example/page' }],
])('a cross-site GET /logout with %s gets a confirmation page and keeps the session', async (_label, headers) => {
  const browser = await signedIn();
  const res = await browser.get(`${app.url}/logout`, { headers });
  expect(isConfirmationPage(res)).toBe(true);
  expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  expect(res.headers.get('x-frame-options')).toBe('DENY');
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect((await whoAmI(browser, app.url)).authenticated).toBe(true);
});

test('the confirmation posts back (same origin) and logs out, keeping returnTo', async () => {
  const browser = await signedIn();
  const page = await browser.get(`${app.url}/logout?returnTo=${encodeURIComponent('/profile?bye=1')}`, { headers: CROSS_SITE });
  expect(isConfirmationPage(page)).toBe(true);
  const done = await browser.submitForm(page, {}, { headers: { 'sec-fetch-site': 'same-origin', origin: app.url }, follow: false });
  expect(done.status).toBe(302);
  expect(done.headers.get('location')).toBe(`${app.url}/profile?bye=1`);
  expect((await whoAmI(browser, app.url)).authenticated).toBe(false);
});

test('a cross-site POST /logout is refused and keeps the session', async () => {
  const browser = await signedIn();
  for (const headers of [CROSS_SITE, { origin: 'https://evil.example' }]) {
    const res = await browser.post(`${app.url}/logout`, {}, { headers });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body).code).toBe('ERR_CROSS_SITE_REQUEST');
  }
  expect((await whoAmI(browser, app.url)).authenticated).toBe(true);
});

test.each([
  ['Sec-Fetch-Site: same-origin', (): Record<string, string> => ({ 'sec-fetch-site': 'same-origin' })],
  ['Sec-Fetch-Site: none (a typed URL, a bookmark)', (): Record<string, string> => ({ 'sec-fetch-site': 'none' })],
  ['a Referer on the app (no fetch metadata)', (): Record<string, string> => ({ referer: `${app.url}/profile` })],
  ['no header at all', (): Record<string, string> => ({})],
])('a same-site GET /logout with %s logs out at once', async (_label, headers) => {
  const browser = await signedIn();
  const res = await browser.get(`${app.url}/logout`, { headers: headers(), follow: false });
  expect(res.status).toBe(302);
  expect((await whoAmI(browser, app.url)).authenticated).toBe(false);
});

test("with idpLogout, a cross-site GET /logout leaves the OP's session alone too", async () => {
  const browser = await signedIn(idpApp);
  const res = await browser.get(`${idpApp.url}/logout`, { headers: CROSS_SITE });
  expect(isConfirmationPage(res)).toBe(true);
  expect(res.redirects).toEqual([]);
  // Still signed in at the OP: a new login needs no password (it comes straight back).
  const again = await browser.get(`${idpApp.url}/login`);
  expect(again.url.startsWith(idpApp.url)).toBe(true);
  expect((await whoAmI(browser, idpApp.url)).authenticated).toBe(true);
});
