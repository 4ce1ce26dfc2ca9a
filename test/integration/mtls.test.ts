/**
 * Mutual TLS (RFC 8705) against a real https test OP with a CA and client certificates made here
 * (openssl): tls_client_auth (CA-signed certificate, subject DN registered) and
 * self_signed_tls_client_auth (the certificate registered in the client's JWKS). Token, PAR,
 * revocation and userinfo requests go to the mtls_endpoint_aliases with the certificate of the
 * app's customFetch, and the access token is bound to that certificate (cnf.x5t#S256).
 */
import { X509Certificate } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JWK } from 'jose';
import type { ClientMetadata } from 'oidc-provider';
import { Agent, fetch as undiciFetch } from 'undici';
import type { CustomFetch } from '../../src/index.js';
import { startApp, type TestApp } from '../helpers/app.js';
import { Browser } from '../helpers/browser.js';
import { freePorts } from '../helpers/flow.js';
import { createTestOP, USERS, type TestOP } from '../helpers/op.js';
import { makeCertificates, thumbprint, type TestCertificates } from '../helpers/tls.js';

let certs: TestCertificates;
let op: TestOP;
let keys: http.Server;
const apps: Record<'ca' | 'self' | 'noCert', TestApp> = {} as never;

/** A fetch that trusts the test CA and, when given, presents a client certificate. */
function tlsFetch(client?: { cert: string; key: string }): CustomFetch {
  const dispatcher = new Agent({ connect: { ca: certs.ca, ...(client ?? {}) } });
  return (url, init) => undiciFetch(url, { ...(init as object), dispatcher }) as unknown as Promise<Response>;
}

beforeAll(async () => {
  certs = makeCertificates('mtls-client');
  // The self-signed client's certificate is registered in its JWKS (x5c); served as jwks_uri.
  const selfJwk = new X509Certificate(certs.selfSigned.cert).publicKey.export({ format: 'jwk' }) as JWK;
  const selfDer = new X509Certificate(certs.selfSigned.cert).raw.toString('base64');
  keys = http.createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [{ ...selfJwk, x5c: [selfDer] }] }));
  });
  await new Promise<void>((resolve) => keys.listen(0, '127.0.0.1', resolve));
  const jwksUri = `http://127.0.0.1:${(keys.address() as AddressInfo).port}/jwks`;

  const [caPort, selfPort, noCertPort] = (await freePorts(3)) as [number, number, number];
  const registered = (port: number) => ({
    redirect_uris: [`http://127.0.0.1:${port}/callback`],
    post_logout_redirect_uris: [`http://127.0.0.1:${port}`, `http://127.0.0.1:${port}/`],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    tls_client_certificate_bound_access_tokens: true,
  });
  const clients = [
    { ...registered(caPort), client_id: 'mtls-client', token_endpoint_auth_method: 'tls_client_auth', tls_client_auth_subject_dn: 'CN=mtls-client' },
    { ...registered(selfPort), client_id: 'self-signed-client', token_endpoint_auth_method: 'self_signed_tls_client_auth', jwks_uri: jwksUri },
    { ...registered(noCertPort), client_id: 'mtls-client', token_endpoint_auth_method: 'tls_client_auth', tls_client_auth_subject_dn: 'CN=mtls-client' },
  ] as ClientMetadata[];
  // the third app reuses the first client's id with another redirect URI
  clients[0] = { ...clients[0], redirect_uris: [...(clients[0]?.redirect_uris ?? []), `http://127.0.0.1:${noCertPort}/callback`] } as ClientMetadata;
  clients.pop();
  op = await createTestOP({ appBaseURL: `http://127.0.0.1:${caPort}`, clients, tls: { ...certs.server, ca: certs.ca, mtls: true } });

  const common = { clientSecret: undefined, useMtls: true, pushedAuthorizationRequests: true };
  apps.ca = await startApp(op.issuer, caPort, { ...common, clientID: 'mtls-client', customFetch: tlsFetch(certs.client) }, withUserinfo);
  apps.self = await startApp(op.issuer, selfPort, { ...common, clientID: 'self-signed-client', clientAuthMethod: 'self_signed_tls_client_auth', customFetch: tlsFetch(certs.selfSigned) }, withUserinfo);
  apps.noCert = await startApp(op.issuer, noCertPort, { ...common, clientID: 'mtls-client', customFetch: tlsFetch() }, withUserinfo);
});

function withUserinfo(app: TestApp['app']): void {
  app.get('/userinfo', (req, res, next) => req.oidc.fetchUserInfo().then((claims) => res.json(claims), next));
  app.get('/refresh', (req, res, next) => (req.oidc.accessToken as NonNullable<typeof req.oidc.accessToken>).refresh().then(() => res.json({ ok: true }), next));
  app.get('/access-token', (req, res) => res.json({ token: req.oidc.accessToken?.access_token }));
}

afterAll(async () => {
  await Promise.all(Object.values(apps).map((app) => app.close()));
  await new Promise<void>((resolve) => keys?.close(() => resolve()));
  await op?.stop();
  certs?.cleanup();
});

/** The test's browser trusts the test CA (the OP's login pages are https). */
const browser = () => new Browser({ fetch: tlsFetch() as unknown as typeof fetch });

async function boundThumbprint(b: Browser, app: TestApp): Promise<string | undefined> {
  const { token } = JSON.parse((await b.get(`${app.url}/access-token`, { headers: { accept: 'application/json' } })).body) as { token: string };
  const stored = await op.provider.AccessToken.find(token);
  return stored?.['x5t#S256'] as string | undefined;
}

test.each([
  ['tls_client_auth, a CA-signed certificate', 'ca', () => certs.client.cert, 'CN=mtls-client'],
  ['self_signed_tls_client_auth, a registered self-signed certificate', 'self', () => certs.selfSigned.cert, 'CN=self-signed-client'],
] as const)('%s: PAR, token, refresh and userinfo go to the mTLS aliases with the certificate; the token is bound to it', async (_name, which, cert, subject) => {
  op.resetCounts();
  const b = browser();
  const app = apps[which];
  const res = await op.signIn(b, `${app.url}/login?returnTo=/profile`);
  expect(res.url).toBe(`${app.url}/profile`);
  expect(JSON.parse(res.body).user.sub).toBe(USERS.alice.sub);

  const mtlsPort = Number(new URL(op.mtlsOrigin as string).port);
  const [exchange] = op.tokenRequests;
  expect(exchange).toMatchObject({ grantType: 'authorization_code', port: mtlsPort, clientCertificate: subject });
  expect(exchange?.headers.authorization).toBeUndefined();
  expect(exchange?.params.client_secret).toBeUndefined();
  expect(exchange?.params.client_id).toBe(which === 'ca' ? 'mtls-client' : 'self-signed-client');
  expect(op.counts.par).toBe(1);
  expect(await boundThumbprint(b, app)).toBe(thumbprint(cert()));

  // userinfo checks the binding: it answers only on the mTLS port with the same certificate
  const userinfo = await b.get(`${app.url}/userinfo`, { headers: { accept: 'application/json' } });
  expect(userinfo.status).toBe(200);
  expect(JSON.parse(userinfo.body).sub).toBe(USERS.alice.sub);
  const refresh = await b.get(`${app.url}/refresh`, { headers: { accept: 'application/json' } });
  expect(refresh.status).toBe(200);
  expect(op.tokenRequests.at(-1)).toMatchObject({ grantType: 'refresh_token', port: mtlsPort, clientCertificate: subject });
  expect(await boundThumbprint(b, app)).toBe(thumbprint(cert()));
});

test('without a client certificate the OP refuses the client, and nobody is signed in', async () => {
  op.resetCounts();
  const b = browser();
  const res = await op.signIn(b, `${apps.noCert.url}/login?returnTo=/profile`);
  expect(res.url).not.toBe(`${apps.noCert.url}/profile`);
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(res.body).toMatch(/invalid_client/);
});
