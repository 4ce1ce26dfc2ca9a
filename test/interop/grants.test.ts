/**
 * The rest of the protocol against Glewlwyd: PAR, DPoP, form_post (refused: Glewlwyd URL-encodes
 * `iss` in its form), and AuthClient's client credentials and password grants.
 */
import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair } from 'jose';
import { AuthClient, OidcError } from '../../src/index.js';
import { Browser } from '../helpers/browser.js';
import { errorBody, freePorts, whoAmI } from '../helpers/flow.js';
import { startApp, type TestApp } from '../helpers/app.js';
import { GLEWLWYD_USER, signInAtGlewlwyd, startGlewlwyd, toLoginPage, type GlewlwydServer } from './glewlwyd.js';

const CLIENT_ID = 'interopgrants';
const CLIENT_SECRET = 'interopgrantssecret0123456789abcdef';
const M2M_ID = 'interopm2m';
/** Not the secret of any client: Glewlwyd refuses the client with an empty-bodied 403. */
const WRONG_SECRET = 'notthesecretofthisclient0123456789';
const M2M_SECRET = 'interopm2msecret0123456789abcdef';

let op: GlewlwydServer;
let issuer: string;
let noIssIssuer: string;
let parApp: TestApp;
let dpopApp: TestApp;
let formPostApp: TestApp;
let noIssFormPostApp: TestApp;
let dpopKeys: CryptoKeyPair;

beforeAll(async () => {
  op = await startGlewlwyd();
  issuer = await op.addOidc('oidc');
  // The same OP without RFC 9207 `iss` in authorization responses: form_post then works.
  noIssIssuer = await op.addOidc('noiss', { 'oauth-as-iss-id': false });
  const ports = await freePorts(4);
  await op.addClient({ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uri: ports.map((port) => `http://127.0.0.1:${port}/callback`) });
  await op.addClient({ client_id: M2M_ID, client_secret: M2M_SECRET, scope: ['api'], authorization_type: ['client_credentials'] });
  const options = { clientID: CLIENT_ID, clientSecret: CLIENT_SECRET, authorizationParams: { scope: 'openid profile' } };
  dpopKeys = await generateKeyPair('ES256');
  parApp = await startApp(issuer, ports[0] ?? 0, { ...options, pushedAuthorizationRequests: true });
  dpopApp = await startApp(issuer, ports[1] ?? 0, { ...options, useDPoP: { keyPair: dpopKeys } }, (express) => {
    express.get('/at', (req, res) => res.json({ accessToken: req.oidc.accessToken?.access_token, tokenType: req.oidc.accessToken?.token_type }));
    express.get('/userinfo', async (req, res, next) => {
      try {
        res.json(await req.oidc.fetchUserInfo());
      } catch (err) {
        next(err);
      }
    });
  });
  const formPost = { ...options, authorizationParams: { scope: 'openid profile', response_mode: 'form_post' as const } };
  formPostApp = await startApp(issuer, ports[2] ?? 0, formPost);
  noIssFormPostApp = await startApp(noIssIssuer, ports[3] ?? 0, formPost);
});

afterAll(async () => {
  for (const app of [parApp, dpopApp, formPostApp, noIssFormPostApp]) await app?.close();
  await op?.stop();
});

test('PAR: the authorization request goes through Glewlwyd\'s PAR endpoint and the login completes', async () => {
  const browser = new Browser();
  const page = await toLoginPage(browser, `${parApp.url}/login`);
  const authorize = new URL(new URL(page.url).searchParams.get('callback_url') ?? '', op.url);
  expect(authorize.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/);
  expect(authorize.searchParams.get('code_challenge')).toBeNull();
  await signInAtGlewlwyd(browser, `${parApp.url}/login`);
  expect((await whoAmI(browser, parApp.url)).authenticated).toBe(true);
});

test('DPoP: the tokens are bound to the app\'s key and userinfo accepts its proofs', async () => {
  const browser = new Browser();
  await signInAtGlewlwyd(browser, `${dpopApp.url}/login`);
  const { accessToken, tokenType } = JSON.parse((await browser.get(`${dpopApp.url}/at`)).body) as { accessToken: string; tokenType: string };
  expect(tokenType.toLowerCase()).toBe('dpop');
  const thumbprint = await calculateJwkThumbprint(await exportJWK(dpopKeys.publicKey));
  expect((decodeJwt(accessToken).cnf as { jkt?: string } | undefined)?.jkt).toBe(thumbprint);
  const info = await browser.get(`${dpopApp.url}/userinfo`);
  expect(info.status).toBe(200);
  expect((JSON.parse(info.body) as { name?: string }).name).toBe(GLEWLWYD_USER.name);
});

test('form_post: Glewlwyd URL-encodes `iss` in its form, so the RFC 9207 check refuses the response', async () => {
  const browser = new Browser();
  const form = await signInAtGlewlwyd(browser, `${formPostApp.url}/login`);
  expect(form.body).toContain(`value="${encodeURIComponent(issuer)}"`);
  const res = await browser.submitForm(form);
  expect(res.status).toBe(400);
  expect(errorBody(res)?.code).toBe('ERR_ISSUER_MISMATCH');
  expect((await whoAmI(browser, formPostApp.url)).authenticated).toBe(false);
});

test('form_post works once Glewlwyd leaves `iss` out (oauth-as-iss-id off)', async () => {
  const browser = new Browser();
  const form = await signInAtGlewlwyd(browser, `${noIssFormPostApp.url}/login`);
  const res = await browser.submitForm(form);
  expect(res.status).toBe(200);
  expect((await whoAmI(browser, noIssFormPostApp.url)).authenticated).toBe(true);
});

test('AuthClient: client credentials grant', async () => {
  const client = new AuthClient({ issuerBaseURL: issuer, clientID: M2M_ID, clientSecret: M2M_SECRET });
  const tokens = await client.loginWithClientCredentials({ audience: 'api', extra: { scope: 'api' } });
  expect(tokens.accessToken).toEqual(expect.any(String));
  expect(tokens.tokenType.toLowerCase()).toBe('bearer');
  expect(decodeJwt(tokens.accessToken).scope).toBe('api');
});

test('AuthClient: password grant', async () => {
  const client = new AuthClient({ issuerBaseURL: issuer, clientID: CLIENT_ID, clientSecret: CLIENT_SECRET });
  const tokens = await client.loginWithPassword({ username: GLEWLWYD_USER.username, password: GLEWLWYD_USER.password, scope: 'openid profile' });
  expect(tokens.accessToken).toEqual(expect.any(String));
  expect(tokens.refreshToken).toEqual(expect.any(String));
  const refreshed = await client.refreshToken({ refreshToken: tokens.refreshToken as string });
  expect(refreshed.accessToken).not.toBe(tokens.accessToken);
});

describe('empty-bodied 403s are the OP refusing the request, with its status, under ERR_OP_ERROR', () => {
  const refused = (clientID: string) => new AuthClient({ issuerBaseURL: issuer, clientID, clientSecret: WRONG_SECRET });
  const rejection = async (promise: Promise<unknown>) => {
    try {
      await promise;
    } catch (err) {
      return err as OidcError;
    }
    throw new Error('expected a rejection');
  };

  test.each([
    ['client_credentials grant', () => refused(M2M_ID).loginWithClientCredentials({ audience: 'api', extra: { scope: 'api' } })],
    // A wrong user password (a wrong client secret gets an empty 400 on this grant).
    ['password grant', () => new AuthClient({ issuerBaseURL: issuer, clientID: CLIENT_ID, clientSecret: CLIENT_SECRET }).loginWithPassword({ username: GLEWLWYD_USER.username, password: WRONG_SECRET, scope: 'openid' })],
    ['pushed authorization request', () => refused(CLIENT_ID).pushedAuthorization({ redirectUri: 'http://127.0.0.1:1/callback', scope: 'openid', codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM' })],
  ])('%s', async (what, call) => {
    const err = await rejection(call());
    expect(err).toBeInstanceOf(OidcError);
    expect(err.code).toBe('ERR_OP_ERROR');
    expect(err.opStatus).toBe(403);
    expect(err.status).toBe(403);
    expect(err.message).toContain(`${what}: the OP refused the request with HTTP 403 and no error body`);
    expect(err.url).toMatch(new RegExp(`^${issuer}/(token|par)$`));
    expect(err.message).not.toContain(WRONG_SECRET);
    expect(err.message).not.toContain(CLIENT_SECRET);
  });
});
