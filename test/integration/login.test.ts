/**
 * /login against the real OP: PKCE, state and nonce in a signed transaction cookie, returnTo kept
 * on the app's origin, PAR, Auth0's extra parameters, query and form_post responses, several
 * logins in flight in one browser.
 */
import { createHash } from 'node:crypto';
import { unsign } from 'cookie-signature';
import { decodeJwt } from 'jose';
import { Browser } from '../helpers/browser.js';
import { APP_SECRET, freePort, startApp, type TestApp } from '../helpers/app.js';
import { authorizeUntilCallback, clientsFor, deliver, errorBody, transactionCookies, whoAmI } from '../helpers/flow.js';
import { createTestOP, USERS, type TestOP } from '../helpers/op.js';

let op: TestOP;
let noParOP: TestOP;
let app: TestApp;
let parApp: TestApp;
let formPostApp: TestApp;
let parWithoutEndpoint: TestApp;

/** Adds `/login-with?params=<json>`: res.oidc.login with those authorization parameters. */
const loginWith = (express: TestApp['app']) => {
  express.get('/login-with', (req, res) => {
    const params = JSON.parse(String(req.query.params ?? '{}')) as Record<string, unknown>;
    return res.oidc.login({ returnTo: '/profile', authorizationParams: params });
  });
};
const withParams = (base: string, params: Record<string, unknown>) => `${base}/login-with?params=${encodeURIComponent(JSON.stringify(params))}`;

beforeAll(async () => {
  const ports = [await freePort(), await freePort(), await freePort(), await freePort()] as const;
  const bases = ports.map((p) => `http://127.0.0.1:${p}`);
  op = await createTestOP({ appBaseURL: bases[0], clients: clientsFor(bases) });
  app = await startApp(op.issuer, ports[0], {}, loginWith);
  parApp = await startApp(op.issuer, ports[1], { pushedAuthorizationRequests: true }, loginWith);
  formPostApp = await startApp(op.issuer, ports[2], { authorizationParams: { response_mode: 'form_post', scope: 'openid profile email' } });
  // oidc-provider with PAR turned off: its discovery then has no pushed_authorization_request_endpoint.
  noParOP = await createTestOP({ appBaseURL: bases[3], pushedAuthorizationRequests: false });
  parWithoutEndpoint = await startApp(noParOP.issuer, ports[3], { pushedAuthorizationRequests: true });
});
afterAll(async () => {
  await Promise.all([app, parApp, formPostApp, parWithoutEndpoint].map((a) => a?.close()));
  await op?.stop();
  await noParOP?.stop();
});

test('login -> protected page -> logout', async () => {
  const browser = new Browser();
  const landed = await op.signIn(browser, `${app.url}/login?returnTo=/profile`);
  expect(landed.status).toBe(200);
  expect(landed.url).toBe(`${app.url}/profile`);
  expect(JSON.parse(landed.body).user.sub).toBe(USERS.alice.sub);

  const out = await browser.get(`${app.url}/logout`);
  expect(out.url).toBe(`${app.url}/`);
  expect(JSON.parse(out.body).authenticated).toBe(false);
});

describe('the authorization request', () => {
  test('uses the code flow with PKCE S256, state and nonce, kept in a signed, short-lived HttpOnly cookie', async () => {
    const browser = new Browser();
    const res = await browser.get(`${app.url}/login`, { follow: false });
    expect(res.status).toBe(302);
    const url = new URL(res.headers.get('location') ?? '');
    expect(`${url.origin}${url.pathname}`).toBe(`${op.issuer}/auth`);
    const q = url.searchParams;
    expect(q.get('response_type')).toBe('code');
    expect(q.get('client_id')).toBe('test-client');
    expect(q.get('redirect_uri')).toBe(`${app.url}/callback`);
    expect(q.get('scope')).toBe('openid profile email offline_access');
    expect(q.get('code_challenge_method')).toBe('S256');

    const state = q.get('state') ?? '';
    const setCookie = res.headers.getSetCookie().find((c) => c.startsWith(`auth_verification.${state}=`)) ?? '';
    expect(setCookie).toMatch(/; HttpOnly/);
    expect(setCookie).toMatch(/; SameSite=Lax/);
    expect(setCookie).toMatch(/; Max-Age=600/);
    expect(setCookie).not.toMatch(/; Secure/);

    const [tx] = transactionCookies(browser);
    expect(tx?.name).toBe(`auth_verification.${state}`);
    expect(unsign(tx?.value ?? '', APP_SECRET)).not.toBe(false);
    expect(tx?.payload.state).toBe(state);
    expect(tx?.payload.nonce).toBe(q.get('nonce'));
    const challenge = createHash('sha256').update(tx?.payload.codeVerifier ?? '').digest('base64url');
    expect(q.get('code_challenge')).toBe(challenge);
    expect(q.has('code_verifier')).toBe(false);
  });

  test('Auth0 parameters of the config and of res.oidc.login() reach the authorization URL', async () => {
    const params = { audience: 'https://api.example.com', organization: 'org_abc123', invitation: 'inv_1', connection: 'github', prompt: 'login', max_age: 120 };
    const res = await new Browser().get(withParams(app.url, params), { follow: false });
    const q = new URL(res.headers.get('location') ?? '').searchParams;
    for (const [key, value] of Object.entries(params)) expect(q.get(key)).toBe(String(value));
  });

  test('the library\'s own parameters cannot be replaced through authorizationParams', async () => {
    const res = await new Browser().get(withParams(app.url, { state: 'mine', nonce: 'mine', code_challenge_method: 'plain' }), { follow: false });
    const q = new URL(res.headers.get('location') ?? '').searchParams;
    expect(q.get('state')).not.toBe('mine');
    expect(q.get('nonce')).not.toBe('mine');
    expect(q.get('redirect_uri')).toBe(`${app.url}/callback`);
    expect(q.get('code_challenge_method')).toBe('S256');
  });

  test('redirect_uri is the app\'s choice, as in express-openid-connect; the OP refuses one it does not know', async () => {
    const browser = new Browser();
    const res = await browser.get(withParams(app.url, { redirect_uri: 'https://evil.example.com/cb' }), { follow: false });
    const location = new URL(res.headers.get('location') ?? '');
    expect(location.searchParams.get('redirect_uri')).toBe('https://evil.example.com/cb');
    const atOp = await browser.get(location.href, { follow: false });
    expect(atOp.status).toBe(400);
    expect(atOp.body).toMatch(/redirect_uri/);
  });

  test('a redirect_uri that is not an absolute http(s) URL fails, naming the parameter', async () => {
    const res = await new Browser().get(withParams(app.url, { redirect_uri: '/callback' }), { follow: false });
    expect(res.status).toBe(500);
    expect(app.errors.at(-1)).toMatchObject({ code: 'ERR_CONFIG_INVALID', message: expect.stringContaining('authorizationParams.redirect_uri') });
  });
});

describe('returnTo stays on the app origin', () => {
  const attacks = [
    'https://evil.example.com/',
    'http://evil.example.com',
    '//evil.example.com',
    '///evil.example.com',
    '/\\evil.example.com',
    '\\\\evil.example.com',
    '/%5cevil.example.com',
    '%5c%5cevil.example.com/x',
    '/%2f/evil.example.com',
    '%2f%2fevil.example.com',
    '/\t/evil.example.com',
    '\t//evil.example.com',
    '/\n/evil.example.com',
    ' //evil.example.com',
    'javascript:alert(1)',
    'JaVaScRiPt:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'https:evil.example.com',
    'http:evil.example.com',
    'http://127.0.0.1@evil.example.com/',
    '//127.0.0.1@evil.example.com',
    'http://evil.example.com\\@127.0.0.1/',
  ];

  test.each([...attacks.map((a) => [JSON.stringify(a), a]), ['a path longer than 2048 characters', '/a'.repeat(2_000)]])('%s falls back to baseURL', async (_label, returnTo) => {
    const browser = new Browser();
    const res = await browser.get(`${app.url}/login?returnTo=${encodeURIComponent(returnTo)}`, { follow: false });
    expect(res.status).toBe(302);
    const stored = String(transactionCookies(browser)[0]?.payload.appState.returnTo);
    expect(stored).toBe(`${app.url}/`);
  });

  test('an absolute URL on the app itself is kept, without any userinfo', async () => {
    const browser = new Browser();
    await browser.get(`${app.url}/login?returnTo=${encodeURIComponent(`http://user:pw@127.0.0.1:${new URL(app.url).port}/profile?tab=1`)}`, { follow: false });
    expect(transactionCookies(browser)[0]?.payload.appState.returnTo).toBe(`${app.url}/profile?tab=1`);
  });

  test('a full login with a hostile returnTo lands on the app', async () => {
    const res = await op.signIn(new Browser(), `${app.url}/login?returnTo=${encodeURIComponent('/\\evil.example.com')}`);
    expect(res.url).toBe(`${app.url}/`);
    expect(res.redirects.some((u) => u.includes('evil.example.com'))).toBe(false);
  });

  test('a path on the app with a query is where the login lands', async () => {
    const res = await op.signIn(new Browser(), `${app.url}/login?returnTo=${encodeURIComponent('/profile?tab=1')}`);
    expect(res.url).toBe(`${app.url}/profile?tab=1`);
  });
});

describe('pushed authorization requests', () => {
  test('the browser goes to /authorize with only client_id and request_uri, and the login completes', async () => {
    const browser = new Browser();
    const parBefore = op.counts.par;
    const start = await browser.get(`${parApp.url}/login?returnTo=/profile`, { follow: false });
    const url = new URL(start.headers.get('location') ?? '');
    expect(`${url.origin}${url.pathname}`).toBe(`${op.issuer}/auth`);
    expect([...url.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
    expect(url.searchParams.get('client_id')).toBe('test-client');
    expect(op.counts.par - parBefore).toBe(1);

    const landed = await op.signIn(browser, url.href);
    expect(landed.url).toBe(`${parApp.url}/profile`);
    expect(JSON.parse(landed.body).user.sub).toBe(USERS.alice.sub);
  });

  test('Auth0 parameters reach the OP through PAR: prompt, organization, audience, max_age take effect', async () => {
    const browser = new Browser();
    await op.signIn(browser, `${parApp.url}/login`); // an OP session, so only prompt=login asks again
    const params = { prompt: 'login', organization: 'org_par42', audience: 'https://api.example.com', max_age: 300, connection: 'db', invitation: 'inv_7' };
    const landed = await op.signIn(browser, withParams(parApp.url, params));
    expect(landed.redirects.some((u) => u.includes('/interaction/'))).toBe(true);
    expect(landed.url).toBe(`${parApp.url}/profile`);
    const user = JSON.parse(landed.body).user as Record<string, unknown>;
    expect(user.org_id).toBe('org_par42');
    const token = JSON.parse((await browser.get(`${parApp.url}/token`)).body) as { access_token: string };
    expect(decodeJwt(token.access_token).aud).toBe('https://api.example.com');
  });

  test('an OP that advertises no PAR endpoint gives a clear error, and no transaction is left behind', async () => {
    const browser = new Browser();
    const res = await browser.get(`${parWithoutEndpoint.url}/login`, { follow: false });
    expect(res.status).toBe(500);
    expect(errorBody(res)?.code).toBe('ERR_PAR_UNSUPPORTED');
    expect(errorBody(res)?.message).toMatch(/pushed_authorization_request_endpoint/);
    expect(transactionCookies(browser)).toHaveLength(0);
  });
});

describe('response modes', () => {
  test('form_post: the OP posts the response to /callback and the user is signed in', async () => {
    const browser = new Browser();
    const delivery = await authorizeUntilCallback(browser, `${formPostApp.url}/login?returnTo=/profile`);
    expect(delivery.method).toBe('POST');
    const res = await deliver(browser, delivery);
    expect(res.url).toBe(`${formPostApp.url}/profile`);
    expect(JSON.parse(res.body).user.sub).toBe(USERS.alice.sub);
  });

  test('query: the OP redirects with the response in the query', async () => {
    const browser = new Browser();
    const delivery = await authorizeUntilCallback(browser, `${app.url}/login`);
    expect(delivery.method).toBe('GET');
    expect(delivery.url.searchParams.has('code')).toBe(true);
    expect((await deliver(browser, delivery)).status).toBe(200);
    expect((await whoAmI(browser, app.url)).authenticated).toBe(true);
  });
});

describe('several logins in one browser', () => {
  test('two logins started in two tabs both succeed', async () => {
    const browser = new Browser();
    const first = await authorizeUntilCallback(browser, `${app.url}/login?returnTo=/profile?tab=1`);
    const second = await authorizeUntilCallback(browser, `${app.url}/login?returnTo=/profile?tab=2`);
    expect(transactionCookies(browser)).toHaveLength(2);

    const one = await deliver(browser, first);
    expect(one.url).toBe(`${app.url}/profile?tab=1`);
    const two = await deliver(browser, second);
    expect(two.url).toBe(`${app.url}/profile?tab=2`);
    expect(JSON.parse(two.body).user.sub).toBe(USERS.alice.sub);
    expect(transactionCookies(browser)).toHaveLength(0);
  });

  test('stale transactions are pruned: the browser never holds more than five', async () => {
    const browser = new Browser();
    for (let i = 0; i < 9; i += 1) {
      await browser.get(`${app.url}/login?returnTo=/profile?n=${i}`, { follow: false });
      expect(transactionCookies(browser).length).toBeLessThanOrEqual(5);
    }
    const kept = transactionCookies(browser).map((tx) => String(tx.payload.appState.returnTo));
    expect(kept).toHaveLength(5);
    // the newest login still completes
    expect(kept).toContain(`${app.url}/profile?n=8`);
    const landed = await op.signIn(browser, `${app.url}/login?returnTo=/profile?n=last`);
    expect(landed.url).toBe(`${app.url}/profile?n=last`);
  });
});
