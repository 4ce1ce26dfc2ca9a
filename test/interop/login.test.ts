/**
 * Sign-in against Glewlwyd: authorization code with PKCE, the ID token's signature, userinfo.
 */
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { Browser } from '../helpers/browser.js';
import { freePort, startApp, type TestApp } from '../helpers/app.js';
import { GLEWLWYD_USER, signInAtGlewlwyd, startGlewlwyd, toLoginPage, type GlewlwydServer } from './glewlwyd.js';

const CLIENT_ID = 'interoplogin';
const CLIENT_SECRET = 'interoploginsecret0123456789abcdef';

let op: GlewlwydServer;
let issuer: string;
let app: TestApp;

beforeAll(async () => {
  op = await startGlewlwyd();
  issuer = await op.addOidc('oidc');
  const port = await freePort();
  await op.addClient({ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uri: [`http://127.0.0.1:${port}/callback`] });
  app = await startApp(issuer, port, {
    clientID: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    authorizationParams: { scope: 'openid profile email' },
  }, (express) => {
    express.get('/claims', (req, res) => res.json({ idToken: req.oidc.idToken, claims: req.oidc.idTokenClaims }));
    express.get('/userinfo', async (req, res, next) => {
      try {
        res.json(await req.oidc.fetchUserInfo());
      } catch (err) {
        next(err);
      }
    });
  });
});

afterAll(async () => {
  await app?.close();
  await op?.stop();
});

test('the authorization request carries a PKCE S256 challenge', async () => {
  const page = await toLoginPage(new Browser(), `${app.url}/login`);
  const callback = new URL(new URL(page.url).searchParams.get('callback_url') ?? '', op.url);
  expect(callback.searchParams.get('code_challenge_method')).toBe('S256');
  expect(callback.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
});

test('a user signs in with PKCE; the ID token is RS256-signed by the key Glewlwyd publishes', async () => {
  const browser = new Browser();
  const res = await signInAtGlewlwyd(browser, `${app.url}/login`);
  expect(res.status).toBe(200);
  expect(new URL(res.url).origin).toBe(app.url);
  const me = JSON.parse((await browser.get(`${app.url}/`, { headers: { accept: 'application/json' } })).body) as { authenticated: boolean; user: { sub: string; name?: string } };
  expect(me.authenticated).toBe(true);
  // Glewlwyd's `sub` is an opaque random id, not the username.
  expect(me.user.sub).toMatch(/^\S{8,}$/);
  expect(me.user.sub).not.toBe(GLEWLWYD_USER.username);

  const { idToken } = JSON.parse((await browser.get(`${app.url}/claims`)).body) as { idToken: string };
  expect(decodeProtectedHeader(idToken).alg).toBe('RS256');
  const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as { jwks_uri: string };
  const { payload } = await jwtVerify(idToken, createRemoteJWKSet(new URL(discovery.jwks_uri)), { issuer, audience: CLIENT_ID });
  expect(payload.sub).toBe(me.user.sub);
});

test('userinfo answers for the signed-in user', async () => {
  const browser = new Browser();
  await signInAtGlewlwyd(browser, `${app.url}/login`);
  const res = await browser.get(`${app.url}/userinfo`);
  expect(res.status).toBe(200);
  const info = JSON.parse(res.body) as { sub: string; name?: string; email?: string };
  const me = JSON.parse((await browser.get(`${app.url}/`, { headers: { accept: 'application/json' } })).body) as { user: { sub: string } };
  expect(info.sub).toBe(me.user.sub);
  expect(info.name).toBe(GLEWLWYD_USER.name);
});
