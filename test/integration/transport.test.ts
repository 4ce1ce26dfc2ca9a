/**
 * Enterprise transport against the real test OP: every OP request through the app's customFetch
 * (counted at both ends), its timeout and abort kept; private_key_jwt with a PEM and a JWK (the OP
 * verifies the client assertion); JAR, directly and inside PAR (the OP verifies the request object
 * with the client's public key and refuses unsigned parameters from a client that must sign).
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, decodeProtectedHeader, type JWK } from 'jose';
import type { ClientMetadata } from 'oidc-provider';
import { AuthClient } from '../../src/client/auth-client.js';
import type { AuthOptions } from '../../src/index.js';
import { startApp, type TestApp } from '../helpers/app.js';
import { Browser } from '../helpers/browser.js';
import { errorBody, freePorts, whoAmI } from '../helpers/flow.js';
import { createTestOP, TEST_CLIENT_ID, TEST_CLIENT_SECRET, USERS, type TestOP } from '../helpers/op.js';

function keyPair(type: 'rsa' | 'ec'): { pem: string; privateJwk: JWK; publicJwk: JWK } {
  const options = type === 'rsa' ? { modulusLength: 2048 } : { namedCurve: 'P-256' };
  const { privateKey, publicKey } = generateKeyPairSync(type as 'rsa', options as never) as unknown as { privateKey: KeyObject; publicKey: KeyObject };
  return {
    pem: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    privateJwk: privateKey.export({ format: 'jwk' }) as JWK,
    publicJwk: publicKey.export({ format: 'jwk' }) as JWK,
  };
}

const rsa = keyPair('rsa');
const ec = { ...keyPair('ec'), kid: 'ec-key-1' };
const jarKey = keyPair('ec');
const stranger = keyPair('ec');

/** Request objects the OP received (header and claims), recorded before it verifies the signature. */
const requestObjects: Array<{ header: Record<string, unknown>; claims: Record<string, unknown> }> = [];

const SETUPS = ['fetch', 'pemJwt', 'jwkJwt', 'wrongJwt', 'jar', 'jarPar', 'unsigned', 'jarStranger'] as const;
type Setup = (typeof SETUPS)[number];

let op: TestOP;
let resource: http.Server;
let resourceUrl: string;
let resourceHits = 0;
const apps = {} as Record<Setup, TestApp>;
/** Requests of the 'fetch' app's customFetch, by path (OP) or 'resource'. */
const throughCustomFetch: string[] = [];

beforeAll(async () => {
  // The clients' public keys are served as jwks_uri: inline `jwks` in static client metadata is
  // structuredClone()d by oidc-provider into objects of another realm under jest's ESM VM, which
  // its plain-object check then refuses.
  const clientKeys: Record<string, JWK[]> = {
    '/jwks/pkjwt-client': [{ ...rsa.publicJwk, kid: 'rsa-key-1' }, { ...ec.publicJwk, kid: ec.kid }],
    '/jwks/jar-client': [{ ...jarKey.publicJwk, kid: 'jar-key-1' }],
  };
  resource = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    const keys = clientKeys[req.url ?? ''];
    if (keys !== undefined) return res.end(JSON.stringify({ keys }));
    resourceHits += 1;
    res.end('{"ok":true}');
  });
  await new Promise<void>((resolve) => resource.listen(0, '127.0.0.1', resolve));
  const resourceOrigin = `http://127.0.0.1:${(resource.address() as AddressInfo).port}`;
  resourceUrl = `${resourceOrigin}/orders`;

  const ports = await freePorts(SETUPS.length);
  const portOf = (setup: Setup) => ports[SETUPS.indexOf(setup)] as number;
  const urls = (...setups: Setup[]) => ({
    redirect_uris: setups.map((s) => `http://127.0.0.1:${portOf(s)}/callback`),
    post_logout_redirect_uris: setups.flatMap((s) => [`http://127.0.0.1:${portOf(s)}`, `http://127.0.0.1:${portOf(s)}/`]),
  });
  const clients: ClientMetadata[] = [
    {
      ...urls('fetch'),
      client_id: TEST_CLIENT_ID,
      client_secret: TEST_CLIENT_SECRET,
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      ...urls('pemJwt', 'jwkJwt', 'wrongJwt'),
      client_id: 'pkjwt-client',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks_uri: `${resourceOrigin}/jwks/pkjwt-client`,
    } as ClientMetadata,
    {
      ...urls('jar', 'jarPar', 'unsigned', 'jarStranger'),
      client_id: 'jar-client',
      client_secret: 'jar-client-secret-that-is-long-enough-0000',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      require_signed_request_object: true,
      request_object_signing_alg: 'ES256',
      jwks_uri: `${resourceOrigin}/jwks/jar-client`,
    } as ClientMetadata,
  ];
  op = await createTestOP({
    appBaseURL: `http://127.0.0.1:${portOf('fetch')}`,
    clients,
    configure: (configuration) => {
      configuration.features = {
        ...configuration.features,
        requestObjects: {
          enabled: true,
          // runs on every request object received; the signature is verified right after it
          assertJwtClaimsAndHeader: async (_ctx, claims, header) => {
            requestObjects.push({ header: { ...header }, claims: { ...claims } });
          },
        },
      };
    },
  });

  const jar = { clientID: 'jar-client', clientSecret: 'jar-client-secret-that-is-long-enough-0000' };
  const pkjwt = { clientID: 'pkjwt-client', clientSecret: undefined };
  const setups: Record<Setup, AuthOptions> = {
    fetch: {
      pushedAuthorizationRequests: true,
      customFetch: (url, init) => {
        const target = new URL(url);
        throughCustomFetch.push(target.origin === op.issuer ? target.pathname : 'resource');
        return fetch(url, init);
      },
    },
    pemJwt: { ...pkjwt, clientAssertionSigningKey: rsa.pem },
    jwkJwt: { ...pkjwt, clientAssertionSigningKey: { ...ec.privateJwk, kid: ec.kid } },
    wrongJwt: { ...pkjwt, clientAssertionSigningKey: stranger.pem },
    jar: { ...jar, requestObjectSigningKey: jarKey.privateJwk, requestObjectSigningKeyId: 'jar-key-1' },
    jarPar: { ...jar, requestObjectSigningKey: jarKey.pem, requestObjectSigningAlg: 'ES256', pushedAuthorizationRequests: true },
    unsigned: jar,
    jarStranger: { ...jar, requestObjectSigningKey: stranger.pem },
  };
  for (const setup of SETUPS) {
    apps[setup] = await startApp(op.issuer, portOf(setup), setups[setup], (app) => {
      app.get('/userinfo', (req, res, next) => req.oidc.fetchUserInfo().then((claims) => res.json(claims), next));
      app.get('/refresh', (req, res, next) => (req.oidc.accessToken as NonNullable<typeof req.oidc.accessToken>).refresh().then(() => res.json({ ok: true }), next));
      app.get('/resource', (req, res, next) => req.oidc.fetch(resourceUrl).then(async (api) => res.status(api.status).json(await api.json()), next));
      app.get('/m2m', (req, res, next) => req.oidc.clientCredentials({ audience: 'https://api.example.com' }).then((t) => res.json({ type: t.tokenType }), next));
    });
  }
});

afterAll(async () => {
  await Promise.all(Object.values(apps).map((app) => app.close()));
  await new Promise<void>((resolve) => resource?.close(() => resolve()));
  await op?.stop();
});

async function signIn(setup: Setup): Promise<Browser> {
  const browser = new Browser();
  const res = await op.signIn(browser, `${apps[setup].url}/login?returnTo=/profile`);
  expect({ setup, url: res.url, status: res.status }).toEqual({ setup, url: `${apps[setup].url}/profile`, status: 200 });
  expect(JSON.parse(res.body).user.sub).toBe(USERS.alice.sub);
  return browser;
}

describe('customFetch', () => {
  test('every request to the OP and to the API goes through it: discovery, JWKS, PAR, token, userinfo, refresh, client credentials, revocation', async () => {
    const browser = await signIn('fetch');
    const app = apps.fetch.url;
    expect((await browser.get(`${app}/userinfo`, { headers: { accept: 'application/json' } })).status).toBe(200);
    expect((await browser.get(`${app}/refresh`, { headers: { accept: 'application/json' } })).status).toBe(200);
    expect((await browser.get(`${app}/resource`, { headers: { accept: 'application/json' } })).status).toBe(200);
    expect((await browser.get(`${app}/m2m`, { headers: { accept: 'application/json' } })).status).toBe(200);
    await browser.get(`${app}/logout`);

    const seen = (path: string) => throughCustomFetch.filter((p) => p === path).length;
    const tokenRequests = Object.values(op.counts.token).reduce((a, b) => a + b, 0);
    // The OP counts what it received; customFetch counts what it sent: equal means nothing bypassed it.
    expect({
      discovery: seen('/.well-known/openid-configuration'),
      jwks: seen('/jwks'),
      par: seen('/request'),
      token: seen('/token'),
      userinfo: seen('/me'),
      revocation: seen('/token/revocation'),
      resource: seen('resource'),
    }).toEqual({
      discovery: op.counts.discovery,
      jwks: op.counts.jwks,
      par: op.counts.par,
      token: tokenRequests,
      userinfo: op.counts.userinfo,
      revocation: op.counts.revocation,
      resource: resourceHits,
    });
    // and each kind really happened
    expect(op.counts.token).toEqual({ authorization_code: 1, refresh_token: 1, client_credentials: 1 });
    for (const n of [op.counts.discovery, op.counts.jwks, op.counts.par, op.counts.userinfo, op.counts.revocation, resourceHits]) expect(n).toBeGreaterThan(0);
  });

  test('httpTimeout bounds a customFetch that never answers and ignores its signal', async () => {
    const client = new AuthClient({
      issuerBaseURL: op.issuer,
      clientID: TEST_CLIENT_ID,
      clientSecret: TEST_CLIENT_SECRET,
      httpTimeout: 300,
      customFetch: (url, init) => (url.endsWith('/token') ? new Promise<Response>(() => {}) : fetch(url, init)),
    });
    await expect(client.loginWithClientCredentials({ audience: 'https://api.example.com' })).rejects.toMatchObject({ code: 'ERR_OP_UNREACHABLE', status: 504 });
    const hangingDiscovery = new AuthClient({ issuerBaseURL: op.issuer, clientID: TEST_CLIENT_ID, httpTimeout: 300, customFetch: () => new Promise<Response>(() => {}) });
    await expect(hangingDiscovery.serverMetadata()).rejects.toMatchObject({ code: 'ERR_OP_UNREACHABLE' });
  });

  test("the caller's abort stops a call inside customFetch", async () => {
    const client = new AuthClient({
      issuerBaseURL: op.issuer,
      clientID: TEST_CLIENT_ID,
      clientSecret: TEST_CLIENT_SECRET,
      customFetch: (url, init) => (url.endsWith('/token') ? new Promise<Response>(() => {}) : fetch(url, init)),
    });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await expect(client.loginWithClientCredentials({ audience: 'https://api.example.com' }, {}, { signal: controller.signal })).rejects.toMatchObject({ code: 'ERR_ABORTED' });
  });
});

describe('private_key_jwt', () => {
  function assertionOf(): { header: Record<string, unknown>; claims: Record<string, unknown> } {
    const exchange = op.tokenRequests.filter((r) => r.grantType === 'authorization_code').at(-1);
    expect(exchange?.params.client_assertion_type).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    expect(exchange?.headers.authorization).toBeUndefined();
    const assertion = String(exchange?.params.client_assertion);
    return { header: decodeProtectedHeader(assertion) as Record<string, unknown>, claims: decodeJwt(assertion) };
  }

  test('a PKCS#8 PEM: the algorithm is inferred (RS256) and the OP verifies the assertion', async () => {
    op.resetCounts();
    await signIn('pemJwt');
    const { header, claims } = assertionOf();
    expect(header.alg).toBe('RS256');
    expect([claims.iss, claims.sub]).toEqual(['pkjwt-client', 'pkjwt-client']);
  });

  test('a private JWK: its kid goes into the assertion header', async () => {
    op.resetCounts();
    await signIn('jwkJwt');
    expect(assertionOf().header).toMatchObject({ alg: 'ES256', kid: ec.kid });
  });

  test('a key the OP does not know: the OP refuses the assertion and nobody is signed in', async () => {
    op.resetCounts();
    const browser = new Browser();
    const res = await op.signIn(browser, `${apps.wrongJwt.url}/login?returnTo=/profile`);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(errorBody(res)?.error).toBe('invalid_client');
    expect(assertionOf().header.alg).toBe('ES256');
    expect((await whoAmI(browser, apps.wrongJwt.url)).authenticated).toBe(false);
  });
});

describe('JAR (RFC 9101)', () => {
  test('/login sends only client_id and a signed request object; the OP verifies it and signs the user in', async () => {
    requestObjects.length = 0;
    const browser = new Browser();
    const res = await op.signIn(browser, `${apps.jar.url}/login?returnTo=/profile`);
    expect(res.url).toBe(`${apps.jar.url}/profile`);
    const authorize = new URL(res.redirects.find((u) => new URL(u).pathname === '/auth') as string);
    expect([...authorize.searchParams.keys()].sort()).toEqual(['client_id', 'request']);
    expect(requestObjects).toHaveLength(1);
    expect(requestObjects[0]?.header).toMatchObject({ alg: 'ES256', kid: 'jar-key-1' });
    expect(requestObjects[0]?.claims).toMatchObject({
      client_id: 'jar-client',
      aud: op.issuer,
      response_type: 'code',
      redirect_uri: `${apps.jar.url}/callback`,
      code_challenge_method: 'S256',
    });
    for (const claim of ['state', 'nonce', 'code_challenge', 'scope']) expect(typeof requestObjects[0]?.claims[claim]).toBe('string');
  });

  test('inside PAR: the pushed request carries the request object', async () => {
    requestObjects.length = 0;
    op.resetCounts();
    const res = await op.signIn(new Browser(), `${apps.jarPar.url}/login?returnTo=/profile`);
    expect(res.url).toBe(`${apps.jarPar.url}/profile`);
    expect(op.counts.par).toBe(1);
    const authorize = new URL(res.redirects.find((u) => new URL(u).pathname === '/auth') as string);
    expect([...authorize.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
    // read when pushed, and again when the browser brings the request_uri
    expect(requestObjects.length).toBeGreaterThanOrEqual(1);
    expect(requestObjects.every((r) => r.header.alg === 'ES256' && r.claims.client_id === 'jar-client')).toBe(true);
  });

  test('unsigned parameters from a client that must sign are refused by the OP', async () => {
    requestObjects.length = 0;
    const browser = new Browser();
    const res = await op.signIn(browser, `${apps.unsigned.url}/login?returnTo=/profile`);
    expect(res.url).not.toBe(`${apps.unsigned.url}/profile`);
    expect(res.body).toMatch(/Request Object must be used by this client|invalid_request/);
    expect(requestObjects).toHaveLength(0);
    expect((await whoAmI(browser, apps.unsigned.url)).authenticated).toBe(false);
  });

  test('a request object signed with a key the OP does not know is refused', async () => {
    requestObjects.length = 0;
    const browser = new Browser();
    const res = await op.signIn(browser, `${apps.jarStranger.url}/login?returnTo=/profile`);
    expect(res.url).not.toBe(`${apps.jarStranger.url}/profile`);
    expect(requestObjects).toHaveLength(1);
    expect(res.body).toMatch(/could not validate Request Object|invalid_request_object/);
    expect((await whoAmI(browser, apps.jarStranger.url)).authenticated).toBe(false);
  });
});
