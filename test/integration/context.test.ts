/**
 * req.oidc and res.oidc as the app sees them: the shapes before and after login, the identity
 * claim filter, afterCallback and getLoginState, and res.oidc.login / logout / callback called
 * from the app's own routes.
 */
import type { Request, Response } from 'express';
import { Browser } from '../helpers/browser.js';
import { startApp, type TestApp } from '../helpers/app.js';
import { authorizeUntilCallback, clientsFor, deliver, freePorts, whoAmI } from '../helpers/flow.js';
import { createTestOP, USERS, type TestOP } from '../helpers/op.js';

let op: TestOP;
let app: TestApp;
let filtered: TestApp;
const seenByAfterCallback: Array<{ state: Record<string, unknown>; hadIdToken: boolean }> = [];

function shape(req: Request, res: Response) {
  const at = req.oidc.accessToken;
  res.json({
    isAuthenticated: req.oidc.isAuthenticated(),
    user: req.oidc.user ?? null,
    idToken: req.oidc.idToken ?? null,
    idTokenClaims: req.oidc.idTokenClaims ?? null,
    accessToken: at === undefined ? null : { access_token: at.access_token, token_type: at.token_type, expires_in: at.expires_in, isExpired: at.isExpired() },
    refreshToken: req.oidc.refreshToken ?? null,
    stored: (req.session?.oidc as Record<string, unknown> | undefined)?.favourite ?? null,
  });
}

const routes = (express: TestApp['app']) => {
  express.get('/shape', shape);
  express.get('/start', (req, res) => res.oidc.login({ returnTo: '/shape', authorizationParams: { scope: 'openid profile' } }));
  express.get('/stop', (req, res) => res.oidc.logout({ returnTo: '/shape' }));
  express.get('/auth/finish', (req, res) => res.oidc.callback({ redirectUri: `${app.url}/callback` }));
};

beforeAll(async () => {
  const ports = await freePorts(2);
  op = await createTestOP({ appBaseURL: `http://127.0.0.1:${ports[0]}`, clients: clientsFor(ports.map((p) => `http://127.0.0.1:${p}`)) });
  app = await startApp(
    op.issuer,
    ports[0] ?? 0,
    {
      getLoginState: (_req, options) => ({ returnTo: options.returnTo, theme: 'dark' }),
      afterCallback: (_req, _res, session, state) => {
        seenByAfterCallback.push({ state, hadIdToken: typeof session.id_token === 'string' });
        return { ...session, favourite: 'tea' };
      },
    },
    routes,
  );
  filtered = await startApp(op.issuer, ports[1] ?? 0, { identityClaimFilter: ['email', 'email_verified', 'iss', 'aud', 'exp', 'iat', 'nonce'] }, routes);
});
afterAll(async () => {
  await Promise.all([app?.close(), filtered?.close()]);
  await op?.stop();
});

const read = async (browser: Browser, url: string) => JSON.parse((await browser.get(url, { headers: { accept: 'application/json' } })).body);

test('anonymous: nothing but isAuthenticated() === false', async () => {
  expect(await read(new Browser(), `${app.url}/shape`)).toEqual({
    isAuthenticated: false,
    user: null,
    idToken: null,
    idTokenClaims: null,
    accessToken: null,
    refreshToken: null,
    stored: null,
  });
});

test('signed in: user without protocol claims, the ID token and its claims, the access and refresh tokens', async () => {
  const browser = new Browser();
  await op.signIn(browser, `${app.url}/login`);
  const s = await read(browser, `${app.url}/shape`);
  expect(s.isAuthenticated).toBe(true);
  expect(s.user).toMatchObject({ sub: USERS.alice.sub, name: USERS.alice.name, email: USERS.alice.email, email_verified: true });
  for (const protocolClaim of ['iss', 'aud', 'exp', 'iat', 'nonce', 'sid', 'auth_time', 'at_hash', 'azp']) expect(s.user).not.toHaveProperty(protocolClaim);
  expect(s.idToken.split('.')).toHaveLength(3);
  expect(s.idTokenClaims).toMatchObject({ iss: op.issuer, aud: 'test-client', sub: USERS.alice.sub });
  expect(typeof s.idTokenClaims.nonce).toBe('string');
  expect(typeof s.accessToken.access_token).toBe('string');
  expect(s.accessToken.token_type).toBe('Bearer');
  expect(s.accessToken.expires_in).toBeGreaterThan(3_000);
  expect(s.accessToken.expires_in).toBeLessThanOrEqual(3_600);
  expect(s.accessToken.isExpired).toBe(false);
  expect(typeof s.refreshToken).toBe('string');
});

test('afterCallback sees the tokens and the login state from getLoginState; what it returns is stored', async () => {
  seenByAfterCallback.length = 0;
  const browser = new Browser();
  await op.signIn(browser, `${app.url}/login?returnTo=/shape`);
  expect(seenByAfterCallback).toEqual([{ state: { returnTo: `${app.url}/shape`, theme: 'dark' }, hadIdToken: true }]);
  expect((await read(browser, `${app.url}/shape`)).stored).toBe('tea');
});

test('identityClaimFilter decides which claims are left out of user', async () => {
  const browser = new Browser();
  await op.signIn(browser, `${filtered.url}/login`);
  const s = await read(browser, `${filtered.url}/shape`);
  expect(s.user).not.toHaveProperty('email');
  expect(s.user).not.toHaveProperty('email_verified');
  expect(s.user).toHaveProperty('sid');
  expect(s.user.sub).toBe(USERS.alice.sub);
  expect(s.idTokenClaims.email).toBe(USERS.alice.email);
});

test('res.oidc.login() from a custom route: its returnTo and authorizationParams are used', async () => {
  const browser = new Browser();
  const start = await browser.get(`${app.url}/start`, { follow: false });
  expect(new URL(start.headers.get('location') ?? '').searchParams.get('scope')).toBe('openid profile');
  const landed = await op.signIn(browser, `${app.url}/start`);
  expect(landed.url).toBe(`${app.url}/shape`);
  const s = JSON.parse(landed.body);
  expect(s.isAuthenticated).toBe(true);
  expect(s.user).not.toHaveProperty('email'); // no email scope asked
});

test('res.oidc.logout() from a custom route', async () => {
  const browser = new Browser();
  await op.signIn(browser, `${app.url}/login`);
  const res = await browser.get(`${app.url}/stop`);
  expect(res.url).toBe(`${app.url}/shape`);
  expect(JSON.parse(res.body).isAuthenticated).toBe(false);
});

test('res.oidc.callback() from a custom route finishes the login', async () => {
  const browser = new Browser();
  const delivery = await authorizeUntilCallback(browser, `${app.url}/login?returnTo=/shape`);
  const res = await deliver(browser, delivery, new URL(`${app.url}/auth/finish`));
  expect(res.url).toBe(`${app.url}/shape`);
  expect(JSON.parse(res.body).isAuthenticated).toBe(true);
  expect((await whoAmI(browser, app.url)).user?.sub).toBe(USERS.alice.sub);
});
