/**
 * A session against Glewlwyd: transparent refresh with rotation (one-time refresh tokens), one
 * refresh under concurrent requests at expiry, logout at the OP, revocation at logout, and
 * back-channel logout. What happened is read from Glewlwyd's own database.
 */
import { Browser } from '../helpers/browser.js';
import { errorBody, freePorts, whoAmI } from '../helpers/flow.js';
import { startApp, type TestApp } from '../helpers/app.js';
import { deleteGlewlwydSession, endSessionAtGlewlwyd, signInAtGlewlwyd, startGlewlwyd, type GlewlwydServer } from './glewlwyd.js';

const CLIENT_ID = 'interopsession';
const CLIENT_SECRET = 'interopsessionsecret0123456789abcdef';
/** Seconds an access token lives: refreshes are due after half of it (refreshLeeway is capped there). */
const ACCESS_TOKEN_SECONDS = 6;

let op: GlewlwydServer;
let issuer: string;
let app: TestApp;
let idpApp: TestApp;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const JSON_ACCEPT = { headers: { accept: 'application/json' } };

function refreshTokensIssued(): number {
  return Number(op.query(`SELECT count(*) FROM gpo_refresh_token WHERE gpor_client_id='${CLIENT_ID}'`));
}

function routes(express: TestApp['app']): void {
  express.get('/refresh-token', (req, res) => res.json({ refreshToken: req.oidc.refreshToken ?? null, sid: req.oidc.idTokenClaims?.sid ?? null }));
}

async function refreshGrant(refreshToken: string): Promise<number> {
  const res = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${btoa(`${CLIENT_ID}:${CLIENT_SECRET}`)}` },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
  });
  await res.arrayBuffer();
  return res.status;
}

beforeAll(async () => {
  op = await startGlewlwyd();
  issuer = await op.addOidc('oidc', { 'access-token-duration': ACCESS_TOKEN_SECONDS });
  const [port = 0, idpPort = 0] = await freePorts(2);
  await op.addClient({
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    redirect_uri: [`http://127.0.0.1:${port}/callback`, `http://127.0.0.1:${idpPort}/callback`],
    // Glewlwyd compares post_logout_redirect_uri exactly, trailing slash included.
    post_logout_redirect_uris: [`http://127.0.0.1:${idpPort}/`],
    backchannel_logout_uri: `http://127.0.0.1:${port}/backchannel-logout`,
  });
  const options = { clientID: CLIENT_ID, clientSecret: CLIENT_SECRET, authorizationParams: { scope: 'openid profile offline_access' } };
  app = await startApp(issuer, port, { ...options, backchannelLogout: true }, routes);
  // getAccessToken() refreshes here (autoRefresh off), so its error reaches the route.
  idpApp = await startApp(issuer, idpPort, { ...options, idpLogout: true, autoRefresh: false }, routes);
});

afterAll(async () => {
  await app?.close();
  await idpApp?.close();
  await op?.stop();
});

test('an expiring access token is refreshed transparently; the rotated refresh token replaces the old one', async () => {
  const browser = new Browser();
  await signInAtGlewlwyd(browser, `${app.url}/login`);
  const first = JSON.parse((await browser.get(`${app.url}/token`)).body) as { access_token: string };
  const { refreshToken: before } = JSON.parse((await browser.get(`${app.url}/refresh-token`)).body) as { refreshToken: string };
  expect(before).toEqual(expect.any(String));
  const issued = refreshTokensIssued();

  await sleep((ACCESS_TOKEN_SECONDS / 2) * 1000 + 700);
  const second = JSON.parse((await browser.get(`${app.url}/token`)).body) as { access_token: string };
  expect(second.access_token).not.toBe(first.access_token);
  const { refreshToken: after } = JSON.parse((await browser.get(`${app.url}/refresh-token`)).body) as { refreshToken: string };
  expect(after).not.toBe(before);
  expect(refreshTokensIssued()).toBe(issued + 1);
  // One-time use: the old refresh token is dead at Glewlwyd (and a reuse would disable the chain).
  expect((await whoAmI(browser, app.url)).authenticated).toBe(true);
});

test('20 concurrent requests at expiry: exactly one refresh at Glewlwyd, all get the same new token, still signed in', async () => {
  const browser = new Browser();
  await signInAtGlewlwyd(browser, `${app.url}/login`);
  const first = JSON.parse((await browser.get(`${app.url}/token`)).body) as { access_token: string };
  const issued = refreshTokensIssued();

  await sleep((ACCESS_TOKEN_SECONDS / 2) * 1000 + 700);
  const answers = await Promise.all(Array.from({ length: 20 }, () => browser.get(`${app.url}/token`)));
  expect(answers.map((res) => res.status)).toEqual(Array(20).fill(200));
  const tokens = new Set(answers.map((res) => (JSON.parse(res.body) as { access_token: string }).access_token));
  expect(tokens.size).toBe(1);
  expect(tokens.has(first.access_token)).toBe(false);
  expect(refreshTokensIssued()).toBe(issued + 1);
  expect((await whoAmI(browser, app.url)).authenticated).toBe(true);
});

test('a refresh refused with an empty-bodied 400 signs the session out; that refresh token is never sent again', async () => {
  const browser = new Browser();
  await signInAtGlewlwyd(browser, `${idpApp.url}/login`);
  const { refreshToken } = JSON.parse((await browser.get(`${idpApp.url}/refresh-token`)).body) as { refreshToken: string };
  // Someone else redeems it first: with one-time refresh tokens the session's copy is now dead,
  // and Glewlwyd answers it with 400 and an empty body.
  expect(await refreshGrant(refreshToken)).toBe(200);
  await sleep((ACCESS_TOKEN_SECONDS / 2) * 1000 + 700);

  // Every request to Glewlwyd's token endpoint that presents this refresh token, seen on the wire.
  let presented = 0;
  const realFetch = globalThis.fetch;
  globalThis.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (url.startsWith(`${issuer}/token`) && new URLSearchParams(String(init?.body ?? '')).get('refresh_token') === refreshToken) presented += 1;
    return realFetch(input, init);
  }) as typeof fetch;
  try {
    const res = await browser.get(`${idpApp.url}/token`, JSON_ACCEPT);
    expect(res.status).toBe(401);
    expect(errorBody(res)?.code).toBe('ERR_REFRESH_FAILED');
    expect((await whoAmI(browser, idpApp.url)).authenticated).toBe(false);
    for (let i = 0; i < 3; i += 1) {
      const again = await browser.get(`${idpApp.url}/token`, JSON_ACCEPT);
      expect(again.status).toBe(401);
    }
  } finally {
    globalThis.fetch = realFetch;
  }
  expect(presented).toBe(1);
});

test('logout revokes the refresh token at Glewlwyd', async () => {
  const browser = new Browser();
  await signInAtGlewlwyd(browser, `${app.url}/login`);
  const { refreshToken } = JSON.parse((await browser.get(`${app.url}/refresh-token`)).body) as { refreshToken: string };
  expect(refreshToken).toEqual(expect.any(String));

  await browser.get(`${app.url}/logout`);
  expect((await whoAmI(browser, app.url)).authenticated).toBe(false);
  // Glewlwyd refuses a revoked refresh token with an empty-bodied 400.
  expect(await refreshGrant(refreshToken)).toBe(400);
});

test('idpLogout ends the session at Glewlwyd and comes back to the app', async () => {
  const browser = new Browser();
  await signInAtGlewlwyd(browser, `${idpApp.url}/login`);
  const profile = new URL(`${op.url}/api/profile_list/`);
  const signedInAtOp = await fetch(profile, { headers: { cookie: browser.cookies.headerFor(profile) ?? '' } });
  expect(signedInAtOp.status).toBe(200);

  const logoutPage = await browser.get(`${idpApp.url}/logout`);
  expect(new URL(logoutPage.url).searchParams.get('prompt')).toBe('end_session');
  const back = await endSessionAtGlewlwyd(browser, logoutPage);
  expect(back.url).toBe(`${idpApp.url}/`);
  expect((await whoAmI(browser, idpApp.url)).authenticated).toBe(false);
  const afterwards = await fetch(profile, { headers: { cookie: browser.cookies.headerFor(profile) ?? '' } });
  expect(afterwards.status).toBe(401);
});

test('back-channel logout: ending the session at Glewlwyd signs the user out of the app', async () => {
  const browser = new Browser();
  await signInAtGlewlwyd(browser, `${app.url}/login`);
  const { sid } = JSON.parse((await browser.get(`${app.url}/refresh-token`)).body) as { sid: string };
  expect(sid).toEqual(expect.any(String));
  expect((await whoAmI(browser, app.url)).authenticated).toBe(true);

  await deleteGlewlwydSession(browser, op.url, 'oidc', sid);
  // Glewlwyd posts the logout token from a thread of its own: wait for it, bounded.
  const deadline = Date.now() + 10_000;
  while ((await whoAmI(browser, app.url)).authenticated && Date.now() < deadline) await sleep(100);
  expect((await whoAmI(browser, app.url)).authenticated).toBe(false);
  expect(await op.logTail(400)).toContain(`Send backchannel_logout successfully for client ${CLIENT_ID}`);
});
