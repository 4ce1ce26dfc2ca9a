/**
 * DPoP server nonces (RFC 9449 section 8 and 9): an OP that requires them, and an API that does.
 * The first request without a nonce is answered with use_dpop_nonce; the library retries exactly
 * once with the nonce, never in a loop, and remembers the nonce for the following requests.
 */
import { decodeJwt } from 'jose';
import { AuthClient } from '../../src/index.js';
import { Browser } from '../helpers/browser.js';
import { M2M_CLIENT_SECRET, TEST_CLIENT_ID, TEST_CLIENT_SECRET, createTestOP, type TestOP } from '../helpers/op.js';
import { freePort, startApp, type TestApp } from '../helpers/app.js';
import { startResourceServer, type TestResourceServer } from '../dpop/resource-server.js';

const API = 'https://api.example.com';
const JSON_ACCEPT = { headers: { accept: 'application/json' } };

let op: TestOP;
let rs: TestResourceServer;
let app: TestApp;

beforeAll(async () => {
  const port = await freePort();
  op = await createTestOP({ appBaseURL: `http://127.0.0.1:${port}`, dpop: { requireNonce: true } });
  rs = await startResourceServer({ issuer: op.issuer, introspection: { clientId: TEST_CLIENT_ID, clientSecret: TEST_CLIENT_SECRET } });
  app = await startApp(op.issuer, port, { useDPoP: true, authorizationParams: { scope: 'openid profile offline_access read:data', audience: API } }, (ex) => {
    ex.get('/call', async (req, res, next) => {
      try {
        const answer = await req.oidc.fetch(`${rs.url}/orders`);
        res.status(answer.status).json(await answer.json());
      } catch (err) {
        next(err);
      }
    });
    ex.get('/refresh', async (req, res, next) => {
      try {
        const token = await req.oidc.accessToken!.refresh();
        res.json({ token_type: token.token_type });
      } catch (err) {
        next(err);
      }
    });
  });
});
afterAll(async () => {
  await app?.close();
  await rs?.close();
  await op?.stop();
});

const nonceOf = (proof: unknown): unknown => decodeJwt(proof as string).nonce;

test('the OP demands a nonce: the code exchange is retried once with it, refreshes reuse it', async () => {
  op.resetCounts();
  const browser = new Browser();
  const landed = await op.signIn(browser, `${app.url}/login?returnTo=/profile`);
  expect(landed.url).toBe(`${app.url}/profile`);
  expect(JSON.parse(landed.body).tokenType).toBe('DPoP');

  const exchanges = op.tokenRequests.filter((r) => r.grantType === 'authorization_code');
  expect(exchanges).toHaveLength(2);
  expect(nonceOf(exchanges[0]?.headers.dpop)).toBeUndefined();
  expect(typeof nonceOf(exchanges[1]?.headers.dpop)).toBe('string');

  const refresh = await browser.get(`${app.url}/refresh`, JSON_ACCEPT);
  expect(refresh.status).toBe(200);
  expect(JSON.parse(refresh.body).token_type).toBe('DPoP');
  const refreshes = op.tokenRequests.filter((r) => r.grantType === 'refresh_token');
  // The remembered nonce is sent right away; if the OP rolled it meanwhile, one retry, no more.
  expect(typeof nonceOf(refreshes[0]?.headers.dpop)).toBe('string');
  expect(refreshes.length).toBeGreaterThanOrEqual(1);
  expect(refreshes.length).toBeLessThanOrEqual(2);
});

test('client credentials from a new AuthClient: one challenge, one retry', async () => {
  op.resetCounts();
  const client = new AuthClient({ issuerBaseURL: op.issuer, clientID: 'm2m-client', clientSecret: M2M_CLIENT_SECRET, useDPoP: true });
  const tokens = await client.loginWithClientCredentials({ audience: API });
  expect(tokens.tokenType).toBe('DPoP');
  expect(op.counts.token.client_credentials).toBe(2);
});

describe('an API that demands nonces', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = new Browser();
    await op.signIn(browser, `${app.url}/login`);
  });
  afterEach(() => {
    rs.nonceMode = 'off';
  });

  test('the first call is retried once with the nonce; the next call sends it right away', async () => {
    rs.nonceMode = 'required';
    rs.requests.length = 0;
    const first = await browser.get(`${app.url}/call`, JSON_ACCEPT);
    expect(first.status).toBe(200);
    expect(rs.requests.map((r) => r.status)).toEqual([401, 200]);
    expect(rs.requests.map((r) => nonceOf(r.dpop))).toEqual([undefined, rs.nonce]);

    rs.requests.length = 0;
    expect((await browser.get(`${app.url}/call`, JSON_ACCEPT)).status).toBe(200);
    expect(rs.requests.map((r) => r.status)).toEqual([200]);

    // a new nonce from the API: one challenge, one retry
    rs.rotateNonce();
    rs.requests.length = 0;
    expect((await browser.get(`${app.url}/call`, JSON_ACCEPT)).status).toBe(200);
    expect(rs.requests.map((r) => r.status)).toEqual([401, 200]);
  });

  test('an API that never accepts a nonce gets two requests, not a loop, and the app sees its 401', async () => {
    rs.nonceMode = 'always-new';
    rs.requests.length = 0;
    const res = await browser.get(`${app.url}/call`, JSON_ACCEPT);
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toEqual({ error: 'use_dpop_nonce' });
    expect(rs.requests).toHaveLength(2);
    expect(rs.requests.every((r) => r.reason === 'use_dpop_nonce')).toBe(true);
  });
});
