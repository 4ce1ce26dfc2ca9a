/**
 * DPoP (RFC 9449) end to end against oidc-provider with DPoP on: the login binds the code to the
 * app's key (dpop_jkt), the code exchange, refreshes and AuthClient grants send proofs, the tokens
 * come back DPoP-bound (cnf.jkt = the key's thumbprint), and a small API that verifies DPoP accepts
 * them from the app but refuses them when stolen.
 */
import { createHash, randomUUID } from 'node:crypto';
import { SignJWT, createRemoteJWKSet, decodeJwt, exportJWK, generateKeyPair, calculateJwkThumbprint, jwtVerify } from 'jose';
import { AuthClient } from '../../src/index.js';
import { Browser } from '../helpers/browser.js';
import { M2M_CLIENT_SECRET, TEST_CLIENT_ID, TEST_CLIENT_SECRET, USERS, createTestOP, type TestOP } from '../helpers/op.js';
import { freePort, startApp, type TestApp } from '../helpers/app.js';
import { startResourceServer, type TestResourceServer } from '../dpop/resource-server.js';

const API = 'https://api.example.com';
const JSON_ACCEPT = { headers: { accept: 'application/json' } };
const PAR_CLIENT_SECRET = 'par-client-secret-that-is-long-enough-0000';

let op: TestOP;
let rs: TestResourceServer;
let app: TestApp;
let parApp: TestApp;
let parKeyPair: CryptoKeyPair;
let jwks: ReturnType<typeof createRemoteJWKSet>;

/** Routes that call the API for the user and refresh on demand. */
function apiRoutes(ex: TestApp['app']): void {
  ex.get('/login-api', (_req, res) => res.oidc.login({ returnTo: '/profile', authorizationParams: { audience: API, scope: 'openid profile email offline_access read:data' } }));
  ex.get('/call', async (req, res, next) => {
    try {
      const answer = await req.oidc.fetch(`${rs.url}/orders?page=1`);
      res.status(answer.status).json(await answer.json());
    } catch (err) {
      next(err);
    }
  });
  ex.get('/refresh', async (req, res, next) => {
    try {
      const token = await req.oidc.accessToken!.refresh();
      res.json({ access_token: token.access_token, token_type: token.token_type });
    } catch (err) {
      next(err);
    }
  });
}

beforeAll(async () => {
  const port = await freePort();
  const parPort = await freePort();
  op = await createTestOP({
    appBaseURL: `http://127.0.0.1:${port}`,
    dpop: true,
    extraClients: [
      {
        client_id: 'par-client',
        client_secret: PAR_CLIENT_SECRET,
        redirect_uris: [`http://127.0.0.1:${parPort}/callback`],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
  });
  jwks = createRemoteJWKSet(new URL(`${op.issuer}/jwks`));
  rs = await startResourceServer({ issuer: op.issuer, introspection: { clientId: TEST_CLIENT_ID, clientSecret: TEST_CLIENT_SECRET } });
  app = await startApp(op.issuer, port, { useDPoP: true }, apiRoutes);
  // A second app: login through PAR, with a key pair the app supplies (as every instance would).
  parKeyPair = await generateKeyPair('ES256');
  parApp = await startApp(op.issuer, parPort, { clientID: 'par-client', clientSecret: PAR_CLIENT_SECRET, pushedAuthorizationRequests: true, useDPoP: { keyPair: parKeyPair } }, apiRoutes);
});
afterAll(async () => {
  await app?.close();
  await parApp?.close();
  await rs?.close();
  await op?.stop();
});
beforeEach(() => {
  op.resetCounts();
  rs.requests.length = 0;
});

async function tokenOf(browser: Browser, target: TestApp): Promise<{ access_token: string; token_type: string }> {
  const res = await browser.get(`${target.url}/token`, JSON_ACCEPT);
  expect(res.status).toBe(200);
  return JSON.parse(res.body) as { access_token: string; token_type: string };
}

/** A DPoP proof for `url` signed by a key the app never had. */
async function foreignProof(method: string, url: string, accessToken: string): Promise<string> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  return new SignJWT({ htm: method, htu: url, ath: createHash('sha256').update(accessToken).digest('base64url'), jti: randomUUID() })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(publicKey) })
    .setIssuedAt()
    .sign(privateKey);
}

async function boundTo(accessToken: string): Promise<unknown> {
  const { payload } = await jwtVerify(accessToken, jwks, { issuer: op.issuer, audience: API });
  return (payload.cnf as { jkt?: unknown } | undefined)?.jkt;
}

describe('login and the API call', () => {
  let browser: Browser;
  let thumbprint: string;

  beforeAll(async () => {
    thumbprint = (await app.middleware.client.dpopThumbprint()) as string;
    expect(thumbprint).toMatch(/^[\w-]{43}$/);
    browser = new Browser();
    const landed = await op.signIn(browser, `${app.url}/login-api`);
    expect(landed.url).toBe(`${app.url}/profile`);
    // the authorization request carried the key's thumbprint
    const authorize = new URL(landed.redirects.find((url) => url.startsWith(`${op.issuer}/auth`)) as string);
    expect(authorize.searchParams.get('dpop_jkt')).toBe(thumbprint);
  });

  test('the code is bound to the key, the exchange sends a proof, the token is DPoP-bound', async () => {
    const codes = op.store.list('AuthorizationCode') as Array<{ dpopJkt?: string; clientId?: string }>;
    expect(codes.some((code) => code.clientId === TEST_CLIENT_ID && code.dpopJkt === thumbprint)).toBe(true);

    const profile = await browser.get(`${app.url}/profile`, JSON_ACCEPT);
    expect(JSON.parse(profile.body)).toMatchObject({ user: { sub: USERS.alice.sub }, tokenType: 'DPoP' });
    const token = await tokenOf(browser, app);
    expect(token.token_type).toBe('DPoP');
    expect(await boundTo(token.access_token)).toBe(thumbprint);
  });

  test('req.oidc.fetch calls the API with the token and a proof, and the API accepts it', async () => {
    const res = await browser.get(`${app.url}/call`, JSON_ACCEPT);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ sub: USERS.alice.sub, bound: true, jkt: thumbprint, method: 'GET' });
    expect(rs.requests).toHaveLength(1);
    expect(rs.requests[0]?.authorization).toMatch(/^DPoP /);
  });

  test('a token stolen from the session is refused without a proof and with a proof from another key', async () => {
    const { access_token: stolen } = await tokenOf(browser, app);
    const url = `${rs.url}/orders`;
    const asBearer = await fetch(url, { headers: { authorization: `Bearer ${stolen}` } });
    const noProof = await fetch(url, { headers: { authorization: `DPoP ${stolen}` } });
    const otherKey = await fetch(url, { headers: { authorization: `DPoP ${stolen}`, dpop: await foreignProof('GET', url, stolen) } });
    expect([asBearer.status, noProof.status, otherKey.status]).toEqual([401, 401, 401]);
    expect(rs.requests.map((r) => r.reason)).toEqual(['DPoP-bound token sent without DPoP', 'no single DPoP proof', 'proof key does not match cnf.jkt']);
    // the same token still works for the app, which holds the key
    expect((await browser.get(`${app.url}/call`, JSON_ACCEPT)).status).toBe(200);
  });

  test('a refresh sends a proof and the new token is bound to the same key', async () => {
    const before = await tokenOf(browser, app);
    const res = await browser.get(`${app.url}/refresh`, JSON_ACCEPT);
    expect(res.status).toBe(200);
    const refreshed = JSON.parse(res.body) as { access_token: string; token_type: string };
    expect(refreshed.access_token).not.toBe(before.access_token);
    expect(refreshed.token_type).toBe('DPoP');
    expect(await boundTo(refreshed.access_token)).toBe(thumbprint);
    const refreshRequests = op.tokenRequests.filter((r) => r.grantType === 'refresh_token');
    expect(refreshRequests).toHaveLength(1);
    expect(typeof refreshRequests[0]?.headers.dpop).toBe('string');
    expect((await tokenOf(browser, app)).access_token).toBe(refreshed.access_token);
    expect((await browser.get(`${app.url}/call`, JSON_ACCEPT)).status).toBe(200);
  });
});

test('an opaque access token is bound too (read through introspection)', async () => {
  const thumbprint = await app.middleware.client.dpopThumbprint();
  const browser = new Browser();
  await op.signIn(browser, `${app.url}/login`);
  const token = await tokenOf(browser, app);
  expect(token.access_token.split('.')).toHaveLength(1);
  expect(token.token_type).toBe('DPoP');

  const introspection = await fetch(`${op.issuer}/token/introspection`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${TEST_CLIENT_ID}:${TEST_CLIENT_SECRET}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: token.access_token }).toString(),
  });
  expect(await introspection.json()).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt: thumbprint } });

  expect((await browser.get(`${app.url}/call`, JSON_ACCEPT)).status).toBe(200);
  const stolen = await fetch(`${rs.url}/orders`, { headers: { authorization: `Bearer ${token.access_token}` } });
  expect(stolen.status).toBe(401);
});

test('login through PAR with a supplied key: dpop_jkt goes in the pushed request, the tokens are bound to that key', async () => {
  const thumbprint = await calculateJwkThumbprint(await exportJWK(parKeyPair.publicKey), 'sha256');
  expect(await parApp.middleware.client.dpopThumbprint()).toBe(thumbprint);
  const browser = new Browser();
  const landed = await op.signIn(browser, `${parApp.url}/login-api`);
  expect(landed.url).toBe(`${parApp.url}/profile`);
  expect(op.counts.par).toBe(1);
  const authorize = new URL(landed.redirects.find((url) => url.startsWith(`${op.issuer}/auth`)) as string);
  expect(authorize.searchParams.get('request_uri')).toBeTruthy();
  expect(authorize.searchParams.has('dpop_jkt')).toBe(false);
  const codes = op.store.list('AuthorizationCode') as Array<{ dpopJkt?: string; clientId?: string }>;
  expect(codes.some((code) => code.clientId === 'par-client' && code.dpopJkt === thumbprint)).toBe(true);

  const token = await tokenOf(browser, parApp);
  expect(token.token_type).toBe('DPoP');
  expect(await boundTo(token.access_token)).toBe(thumbprint);
  const call = await browser.get(`${parApp.url}/call`, JSON_ACCEPT);
  expect(JSON.parse(call.body)).toMatchObject({ bound: true, jkt: thumbprint });
});

describe('AuthClient grants', () => {
  test('client credentials: a DPoP-bound token that fetchProtectedResource can use', async () => {
    const client = new AuthClient({ issuerBaseURL: op.issuer, clientID: 'm2m-client', clientSecret: M2M_CLIENT_SECRET, useDPoP: true });
    const thumbprint = await client.dpopThumbprint();
    const tokens = await client.loginWithClientCredentials({ audience: API });
    expect(tokens.tokenType).toBe('DPoP');
    expect(await boundTo(tokens.accessToken)).toBe(thumbprint);
    expect(typeof op.tokenRequests[0]?.headers.dpop).toBe('string');

    const answer = await client.fetchProtectedResource(tokens, `${rs.url}/jobs`, { method: 'POST', body: '{}' });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ bound: true, jkt: thumbprint, method: 'POST' });

    // the same token from a client with another key is refused
    const other = new AuthClient({ issuerBaseURL: op.issuer, clientID: 'm2m-client', clientSecret: M2M_CLIENT_SECRET, useDPoP: true });
    expect((await other.fetchProtectedResource(tokens, `${rs.url}/jobs`)).status).toBe(401);
    expect(rs.requests.at(-1)?.reason).toBe('proof key does not match cnf.jkt');
  });

  test('every grant sends a proof: refresh, password, any grant', async () => {
    const client = new AuthClient({ issuerBaseURL: op.issuer, clientID: TEST_CLIENT_ID, clientSecret: TEST_CLIENT_SECRET, useDPoP: true });
    const thumbprint = await client.dpopThumbprint();
    const password = await client.loginWithPassword({ username: USERS.alice.username, password: USERS.alice.password, scope: 'openid offline_access' });
    expect(password.refreshToken).toBeDefined();
    const refreshed = await client.refreshToken({ refreshToken: password.refreshToken as string });
    expect(refreshed.tokenType).toBe('DPoP');
    await client.loginWithGrant('client_credentials', { audience: API });
    const grants = op.tokenRequests.map((r) => r.grantType);
    expect(grants).toEqual(['password', 'refresh_token', 'client_credentials']);
    for (const request of op.tokenRequests) {
      const proof = request.headers.dpop as string;
      expect(typeof proof).toBe('string');
      const jwk = JSON.parse(Buffer.from(proof.split('.')[0] as string, 'base64url').toString()).jwk;
      expect(await calculateJwkThumbprint(jwk, 'sha256')).toBe(thumbprint);
      expect(decodeJwt(proof)).toMatchObject({ htm: 'POST', htu: `${op.issuer}/token` });
    }
  });
});
