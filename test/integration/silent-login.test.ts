/**
 * Silent login (prompt=none) against oidc-provider: a browser's first page load is sent to the OP
 * once; with an OP session the user comes back signed in without seeing a page, without one the
 * user comes back anonymous (no error page) and is not sent again; API clients are never sent.
 */
import { attemptSilentLogin } from '../../src/index.js';
import { Browser, type BrowserResponse } from '../helpers/browser.js';
import { USERS, createTestOP, type TestOP } from '../helpers/op.js';
import { freePort, startApp, type TestApp } from '../helpers/app.js';

let op: TestOP;
/** `attemptSilentLogin: true` on every route, authRequired false */
let app: TestApp;

beforeAll(async () => {
  const port = await freePort();
  op = await createTestOP({ appBaseURL: `http://127.0.0.1:${port}` });
  app = await startApp(op.issuer, port, { attemptSilentLogin: true }, (ex) => {
    ex.post('/form', (req, res) => res.json({ authenticated: req.oidc.isAuthenticated() }));
    ex.get('/articles', (req, res) => res.json({ authenticated: req.oidc.isAuthenticated(), id: req.query.id }));
  });
});
afterAll(async () => {
  await app?.close();
  await op?.stop();
});
beforeEach(() => op.resetCounts());

const authorizeRequests = (res: BrowserResponse): URL[] => res.redirects.filter((url) => url.startsWith(`${op.issuer}/auth`)).map((url) => new URL(url));
const SILENT_MARK = 'appSession_silent';

/** A browser with an OP session but no session at the app (as after the app session expired). */
async function browserWithOPSession(): Promise<Browser> {
  const browser = new Browser();
  await op.signIn(browser, `${app.url}/login`);
  browser.cookies.delete('appSession');
  // the app no longer knows the user (an API call is not sent to the OP); the OP still does
  const home = await browser.get(`${app.url}/`, { headers: { accept: 'application/json' } });
  expect(JSON.parse(home.body).authenticated).toBe(false);
  expect(browser.cookies.get(SILENT_MARK)).toBeUndefined();
  return browser;
}

describe('with an OP session', () => {
  test('the first page load comes back signed in, through redirects only, on the same page', async () => {
    const browser = await browserWithOPSession();
    op.resetCounts();
    const res = await browser.get(`${app.url}/?tab=news`);
    expect(res.status).toBe(200);
    expect(res.url).toBe(`${app.url}/?tab=news`);
    expect(JSON.parse(res.body)).toMatchObject({ authenticated: true, user: { sub: USERS.alice.sub } });
    const [authorize, ...more] = authorizeRequests(res);
    expect(more).toHaveLength(0);
    expect(authorize?.searchParams.get('prompt')).toBe('none');
    // every step was a redirect: no page of the OP was shown
    expect(res.redirects.every((url) => !url.includes('/interaction/'))).toBe(true);
    expect(op.counts.token.authorization_code).toBe(1);
    // signed in: no mark is left, and the next page loads directly
    expect(browser.cookies.get(SILENT_MARK)).toBeUndefined();
    const next = await browser.get(`${app.url}/profile`);
    expect(next.redirects).toEqual([]);
  });

  test('after a logout the OP session does not sign the user straight back in', async () => {
    const browser = await browserWithOPSession();
    await browser.get(`${app.url}/`);
    const out = await browser.get(`${app.url}/logout`);
    expect(JSON.parse(out.body).authenticated).toBe(false);
    op.resetCounts();
    const home = await browser.get(`${app.url}/`);
    expect(home.redirects).toEqual([]);
    expect(JSON.parse(home.body).authenticated).toBe(false);
    expect(op.counts.authorization).toBe(0);
    // the mark lasts for the browser session only (no Max-Age)
    expect(browser.cookies.get(SILENT_MARK)?.expires).toBeUndefined();
  });

  test('a failed code exchange leaves the user anonymous, not on an error page', async () => {
    const browser = await browserWithOPSession();
    op.tamperIdToken(() => ({ signWith: 'foreign' }));
    try {
      const res = await browser.get(`${app.url}/`);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body).authenticated).toBe(false);
      expect(authorizeRequests(res)).toHaveLength(1);
      expect(app.errors).toHaveLength(0);
    } finally {
      op.tamperIdToken(null);
    }
  });
});

describe('without an OP session', () => {
  test('the user comes back anonymous once, and the next visits are not sent again', async () => {
    const browser = new Browser();
    const first = await browser.get(`${app.url}/articles?id=7`);
    expect(first.status).toBe(200);
    expect(first.url).toBe(`${app.url}/articles?id=7`);
    const [authorize] = authorizeRequests(first);
    expect(authorize?.searchParams.get('prompt')).toBe('none');
    // back through the callback with login_required, then to the page, with no error
    expect(first.redirects.some((url) => url.startsWith(`${app.url}/callback?`) && url.includes('error=login_required'))).toBe(true);
    expect(first.redirects.at(-1)).toBe(`${app.url}/articles?id=7`);
    expect(app.errors).toHaveLength(0);

    const again = await browser.get(`${app.url}/`);
    expect(again.redirects).toEqual([]);
    expect(JSON.parse(again.body).authenticated).toBe(false);
    expect(op.counts.authorization).toBe(1);
    expect(op.counts.token.authorization_code).toBeUndefined();

    // once the short-lived mark is gone, a later visit tries again
    const mark = browser.cookies.get(SILENT_MARK);
    expect(mark?.expires).toBeGreaterThan(Date.now());
    browser.cookies.delete(SILENT_MARK);
    const later = await browser.get(`${app.url}/`);
    expect(authorizeRequests(later)).toHaveLength(1);
    expect(op.counts.authorization).toBe(2);
  });

  test('an explicit login after a failed attempt works and clears the mark', async () => {
    const browser = new Browser();
    await browser.get(`${app.url}/`);
    expect(browser.cookies.get(SILENT_MARK)).toBeDefined();
    const landed = await op.signIn(browser, `${app.url}/login`);
    expect(JSON.parse(landed.body).authenticated).toBe(true);
    expect(browser.cookies.get(SILENT_MARK)).toBeUndefined();
  });
});

test('API clients, POSTs, fetch()/XHR and iframes are never redirected', async () => {
  const json = await fetch(`${app.url}/`, { headers: { accept: 'application/json' }, redirect: 'manual' });
  const any = await fetch(`${app.url}/`, { redirect: 'manual' });
  const post = await fetch(`${app.url}/form`, { method: 'POST', headers: { accept: 'text/html' }, redirect: 'manual' });
  const xhr = await fetch(`${app.url}/`, { headers: { accept: 'text/html', 'x-requested-with': 'XMLHttpRequest' }, redirect: 'manual' });
  const cors = await fetch(`${app.url}/`, { headers: { accept: 'text/html', 'sec-fetch-dest': 'empty' }, redirect: 'manual' });
  const frame = await fetch(`${app.url}/`, { headers: { accept: 'text/html', 'sec-fetch-dest': 'iframe' }, redirect: 'manual' });
  const head = await fetch(`${app.url}/`, { method: 'HEAD', headers: { accept: 'text/html' }, redirect: 'manual' });
  expect([json, any, post, xhr, cors, frame, head].map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200, 200]);
  for (const res of [json, any, post, xhr, cors, frame, head]) expect(res.headers.getSetCookie()).toEqual([]);
  expect(op.counts.authorization).toBe(0);

  // a browser navigation (as the browser marks it) is
  const page = await fetch(`${app.url}/`, { headers: { accept: 'text/html', 'sec-fetch-dest': 'document' }, redirect: 'manual' });
  expect(page.status).toBe(302);
  expect(page.headers.get('location')).toContain('prompt=none');
});

describe('the attemptSilentLogin() middleware and authRequired', () => {
  let op2: TestOP;
  let guarded: TestApp;
  let perRoute: TestApp;

  beforeAll(async () => {
    const [portA, portB] = [await freePort(), await freePort()];
    op2 = await createTestOP({
      appBaseURL: `http://127.0.0.1:${portA}`,
      extraClients: [
        {
          client_id: 'route-client',
          client_secret: 'route-client-secret-that-is-long-enough-00',
          redirect_uris: [`http://127.0.0.1:${portB}/callback`],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_basic',
        },
      ],
    });
    guarded = await startApp(op2.issuer, portA, { attemptSilentLogin: true, authRequired: true });
    perRoute = await startApp(op2.issuer, portB, { clientID: 'route-client', clientSecret: 'route-client-secret-that-is-long-enough-00' }, (ex) => {
      ex.get('/home', attemptSilentLogin({ retryAfter: 120 }), (req, res) => res.json({ authenticated: req.oidc.isAuthenticated() }));
    });
  });
  afterAll(async () => {
    await guarded?.close();
    await perRoute?.close();
    await op2?.stop();
  });

  test('with authRequired, a failed silent attempt falls through to the login page (no loop)', async () => {
    op2.resetCounts();
    const browser = new Browser();
    const res = await browser.get(`${guarded.url}/profile`);
    expect(res.url).toMatch(new RegExp(`^${op2.issuer}/interaction/`));
    const tries = res.redirects.filter((url) => url.startsWith(`${op2.issuer}/auth`)).map((url) => new URL(url).searchParams.get('prompt'));
    expect(tries).toEqual(['none', null]);
  });

  test('the middleware only acts where it is mounted, with its own retryAfter', async () => {
    const browser = new Browser();
    const elsewhere = await browser.get(`${perRoute.url}/`);
    expect(elsewhere.redirects).toEqual([]);
    const home = await browser.get(`${perRoute.url}/home`);
    expect(home.redirects.filter((url) => url.startsWith(`${op2.issuer}/auth`))).toHaveLength(1);
    expect(JSON.parse(home.body)).toEqual({ authenticated: false });
    const mark = browser.cookies.get(SILENT_MARK);
    expect(mark?.expires).toBeLessThanOrEqual(Date.now() + 120_000);
    expect(mark?.expires).toBeGreaterThan(Date.now() + 60_000);

    // with an OP session and an earlier consent for this app, /home signs in silently
    const sso = new Browser();
    await op2.signIn(sso, `${perRoute.url}/login`);
    sso.cookies.delete('appSession');
    const signedIn = await sso.get(`${perRoute.url}/home`);
    expect(JSON.parse(signedIn.body)).toEqual({ authenticated: true });
    expect(signedIn.redirects.every((url) => !url.includes('/interaction/'))).toBe(true);
  });

  test('mounted before auth() it fails with a clear error', async () => {
    const handler = attemptSilentLogin();
    const errors: unknown[] = [];
    handler({ headers: {}, method: 'GET' } as never, {} as never, (err?: unknown) => errors.push(err));
    expect(errors[0]).toMatchObject({ code: 'ERR_CONFIG_INVALID' });
    expect(() => attemptSilentLogin({ retryAfter: 0 })).toThrow(/retryAfter/);
  });
});
