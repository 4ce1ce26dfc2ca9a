/**
 * Route guards against the real OP: authRequired, requiresAuth() (login redirect for a browser
 * page load, 401 for anything else, errorOnRequiredAuth globally and per route), and the claim
 * checks (403 for a signed-in user who fails them).
 */
import request from 'supertest';
import { Browser } from '../helpers/browser.js';
import { loadExpress, startApp, type TestApp } from '../helpers/app.js';
import { clientsFor, errorBody, freePorts, transactionCookies } from '../helpers/flow.js';
import { createTestOP, USERS, type TestOP } from '../helpers/op.js';
import { claimCheck, claimEquals, claimIncludes, requiresAuth } from '../../src/index.js';

let op: TestOP;
let everywhere: TestApp;
let everywhere401: TestApp;
let perRoute: TestApp;

const JSON_ACCEPT = { accept: 'application/json' };

beforeAll(async () => {
  const ports = await freePorts(3);
  const [p0 = 0, p1 = 0, p2 = 0] = ports;
  op = await createTestOP({ appBaseURL: `http://127.0.0.1:${p0}`, clients: clientsFor(ports.map((p) => `http://127.0.0.1:${p}`)) });
  // Every ID token carries roles, so claimIncludes has an array to look at.
  op.tamperIdToken((claims) => ({ claims: { ...claims, roles: ['analyst', 'viewer'] } }));
  const anyRoute = (express: TestApp['app']) => {
    express.get('/anything/:id', (req, res) => res.json({ sub: req.oidc.user?.sub }));
    express.post('/anything', (req, res) => res.json({ sub: req.oidc.user?.sub }));
  };
  everywhere = await startApp(op.issuer, p0, { authRequired: true }, anyRoute);
  everywhere401 = await startApp(op.issuer, p1, { authRequired: true, errorOnRequiredAuth: true }, anyRoute);
  perRoute = await startApp(op.issuer, p2, {}, (express) => {
    const ok = (_req: unknown, res: { json: (v: unknown) => void }) => res.json({ ok: true });
    express.get('/api/me', requiresAuth({ errorOnRequiredAuth: true }), ok);
    express.get('/verified', claimEquals('email_verified', true), ok);
    express.get('/bob-only', claimEquals('email', USERS.bob.email), ok);
    express.get('/analysts', claimIncludes('roles', 'analyst'), ok);
    express.get('/admins', claimIncludes('roles', 'analyst', 'admin'), ok);
    express.get('/alice', claimCheck((_req, claims) => claims.name === USERS.alice.name), ok);
    express.get('/nobody', claimCheck(() => false, 'nobody may pass'), ok);
  });
});
afterAll(async () => {
  await Promise.all([everywhere, everywhere401, perRoute].map((a) => a?.close()));
  await op?.stop();
});

describe('authRequired: true', () => {
  test.each(['/', '/profile', '/anything/42?x=1'])('a browser page load of %s goes to login and comes back to it', async (path) => {
    const browser = new Browser();
    const first = await browser.get(`${everywhere.url}${path}`, { follow: false });
    expect(first.status).toBe(302);
    expect(first.headers.get('location')).toMatch(new RegExp(`^${op.issuer}/auth\\?`));
    expect(transactionCookies(browser)[0]?.payload.appState.returnTo).toBe(`${everywhere.url}${path}`);
    const landed = await op.signIn(browser, `${everywhere.url}${path}`);
    expect(landed.url).toBe(`${everywhere.url}${path}`);
    expect(landed.status).toBe(200);
  });

  test('other requests get 401 ERR_NOT_AUTHENTICATED: API calls, POSTs', async () => {
    const api = await new Browser().get(`${everywhere.url}/anything/1`, { headers: JSON_ACCEPT });
    expect({ status: api.status, code: errorBody(api)?.code }).toEqual({ status: 401, code: 'ERR_NOT_AUTHENTICATED' });
    const post = await new Browser().post(`${everywhere.url}/anything`, { a: '1' });
    expect(post.status).toBe(401);
  });

  test('a signed-in user passes everywhere', async () => {
    const browser = new Browser();
    await op.signIn(browser, `${everywhere.url}/login`);
    const res = await browser.get(`${everywhere.url}/anything/7`, { headers: JSON_ACCEPT });
    expect(JSON.parse(res.body).sub).toBe(USERS.alice.sub);
    expect((await browser.post(`${everywhere.url}/anything`, { a: '1' })).status).toBe(200);
  });

  test('errorOnRequiredAuth: true answers 401 even to a browser page load', async () => {
    const res = await new Browser().get(`${everywhere401.url}/anything/1`, { follow: false });
    expect({ status: res.status, code: errorBody(res)?.code }).toEqual({ status: 401, code: 'ERR_NOT_AUTHENTICATED' });
  });

  test('the login and callback routes stay reachable', async () => {
    const res = await new Browser().get(`${everywhere401.url}/login`, { follow: false });
    expect(res.status).toBe(302);
  });
});

describe('requiresAuth()', () => {
  test('a browser page load goes to login with returnTo = the current URL, and lands there', async () => {
    const browser = new Browser();
    const landed = await op.signIn(browser, `${perRoute.url}/profile?tab=keys`);
    expect(landed.url).toBe(`${perRoute.url}/profile?tab=keys`);
    expect(JSON.parse(landed.body).user.sub).toBe(USERS.alice.sub);
  });

  test('a request that is not a page load (Accept: application/json) gets 401', async () => {
    const res = await new Browser().get(`${perRoute.url}/profile`, { headers: JSON_ACCEPT });
    expect({ status: res.status, code: errorBody(res)?.code }).toEqual({ status: 401, code: 'ERR_NOT_AUTHENTICATED' });
  });

  test('requiresAuth({ errorOnRequiredAuth: true }) answers 401 to a browser on that route only', async () => {
    const api = await new Browser().get(`${perRoute.url}/api/me`, { follow: false });
    expect(api.status).toBe(401);
    const page = await new Browser().get(`${perRoute.url}/profile`, { follow: false });
    expect(page.status).toBe(302);
  });

  test('without auth() in front, a guard fails with a clear 500 instead of letting the request through', async () => {
    const express = await loadExpress();
    const bare = express();
    bare.get('/', requiresAuth(), (_req, res) => res.send('should not be reached'));
    bare.use((err: { status?: number; code?: string; message?: string }, _req: unknown, res: { status: (n: number) => { json: (v: unknown) => void } }, _next: unknown) => {
      res.status(err.status ?? 500).json({ code: err.code, message: err.message });
    });
    const res = await request(bare).get('/');
    expect(res.status).toBe(500);
    expect(res.body.code).toBe('ERR_CONFIG_INVALID');
    expect(res.body.message).toMatch(/auth\(\) must be mounted/);
  });
});

describe('claim checks', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = new Browser();
    await op.signIn(browser, `${perRoute.url}/login`);
  });

  test.each([
    ['claimEquals passes on an equal value', '/verified', 200],
    ['claimEquals refuses another value', '/bob-only', 403],
    ['claimIncludes passes when every value is in the claim', '/analysts', 200],
    ['claimIncludes refuses when one value is missing', '/admins', 403],
    ['claimCheck passes when the function says so', '/alice', 200],
    ['claimCheck refuses when it does not', '/nobody', 403],
  ])('%s', async (_name, path, status) => {
    const res = await browser.get(`${perRoute.url}${path}`, { headers: JSON_ACCEPT });
    expect(res.status).toBe(status);
    if (status === 403) expect(errorBody(res)?.code).toBe('ERR_FORBIDDEN_CLAIM');
  });

  test('an anonymous user is treated as by requiresAuth(): a browser goes to login, an API call gets 401', async () => {
    const page = await new Browser().get(`${perRoute.url}/analysts`, { follow: false });
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toMatch(new RegExp(`^${op.issuer}/auth\\?`));
    const api = await new Browser().get(`${perRoute.url}/analysts`, { headers: JSON_ACCEPT });
    expect(api.status).toBe(401);
  });

  test('the factories refuse arguments of the wrong type at setup', () => {
    expect(() => claimCheck('nope' as unknown as () => boolean)).toThrow(TypeError);
    expect(() => claimEquals(42 as unknown as string, 1)).toThrow(TypeError);
    expect(() => claimIncludes(null as unknown as string, 'a')).toThrow(TypeError);
  });
});
