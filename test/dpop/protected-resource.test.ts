/**
 * AuthClient.fetchProtectedResource against a local HTTP server that records what it receives
 * and can demand DPoP nonces; no OP is involved (calling an API needs no discovery).
 */
import { createHash, randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EmbeddedJWK, calculateJwkThumbprint, decodeProtectedHeader, jwtVerify, type JWK } from 'jose';
import { AuthClient, isOidcError } from '../../src/index.js';
import { freePort } from '../helpers/app.js';

interface Seen {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

type NonceMode = 'off' | 'required' | 'always-new';

let server: http.Server;
let base: string;
const seen: Seen[] = [];
let nonceMode: NonceMode = 'off';
let nonce = 'n-1';

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        seen.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
        const proof = req.headers.dpop;
        let proofNonce: unknown;
        if (typeof proof === 'string') proofNonce = (await jwtVerify(proof, EmbeddedJWK)).payload.nonce;
        if (typeof proof === 'string' && (nonceMode === 'always-new' || (nonceMode === 'required' && proofNonce !== nonce))) {
          if (nonceMode === 'always-new') nonce = randomBytes(8).toString('hex');
          res.writeHead(401, { 'www-authenticate': 'DPoP error="use_dpop_nonce"', 'dpop-nonce': nonce });
          res.end();
          return;
        }
        if (req.url === '/forbidden') {
          res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"', 'content-type': 'application/json' });
          res.end('{"error":"invalid_token"}');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: true }));
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  seen.length = 0;
  nonceMode = 'off';
});

const ISSUER = 'http://127.0.0.1:1';
const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');

async function caught(promise: Promise<unknown>): Promise<{ code: string; status: number; message: string }> {
  try {
    await promise;
  } catch (err) {
    expect(isOidcError(err)).toBe(true);
    return err as { code: string; status: number; message: string };
  }
  throw new Error('expected a rejection');
}

test('without DPoP: Authorization Bearer and no proof', async () => {
  const client = new AuthClient({ issuerBaseURL: ISSUER, clientID: 'c' });
  const res = await client.fetchProtectedResource('opaque-token', `${base}/orders?page=2`);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ ok: true });
  expect(seen).toHaveLength(1);
  expect(seen[0]?.headers.authorization).toBe('Bearer opaque-token');
  expect(seen[0]?.headers.dpop).toBeUndefined();
  expect(seen[0]?.path).toBe('/orders?page=2');
});

test('with DPoP: Authorization DPoP and a fresh proof with htm, htu, ath signed by the client key', async () => {
  const client = new AuthClient({ issuerBaseURL: ISSUER, clientID: 'c', useDPoP: true });
  const thumbprint = await client.dpopThumbprint();
  const res = await client.fetchProtectedResource({ accessToken: 'bound-token', tokenType: 'DPoP' }, `${base}/orders?page=2#x`, {
    method: 'post',
    headers: { 'content-type': 'application/json', authorization: 'Bearer forged', DPoP: 'forged' },
    body: JSON.stringify({ item: 1 }),
  });
  expect(res.status).toBe(200);
  await client.fetchProtectedResource({ access_token: 'bound-token', token_type: 'DPoP' }, `${base}/orders`);

  expect(seen).toHaveLength(2);
  const [first, second] = seen as [Seen, Seen];
  expect(first.method).toBe('POST');
  expect(first.body).toBe('{"item":1}');
  expect(first.headers['content-type']).toBe('application/json');
  expect(first.headers.authorization).toBe('DPoP bound-token');
  const proof = first.headers.dpop as string;
  const header = decodeProtectedHeader(proof) as { typ?: string; jwk?: JWK; alg?: string };
  expect(header.typ).toBe('dpop+jwt');
  expect(header.alg).toBe('ES256');
  expect(header.jwk).not.toHaveProperty('d');
  expect(await calculateJwkThumbprint(header.jwk as JWK, 'sha256')).toBe(thumbprint);
  const { payload } = await jwtVerify(proof, EmbeddedJWK);
  expect(payload).toMatchObject({ htm: 'POST', htu: `${base}/orders`, ath: sha256('bound-token') });
  expect(Math.abs((payload.iat as number) - Date.now() / 1000)).toBeLessThan(60);
  // a fresh proof each time
  const again = (await jwtVerify(second.headers.dpop as string, EmbeddedJWK)).payload;
  expect(again.jti).not.toBe(payload.jti);
  expect(again.htm).toBe('GET');
});

test('the token type decides the scheme; a plain string follows the client', async () => {
  const client = new AuthClient({ issuerBaseURL: ISSUER, clientID: 'c', useDPoP: true });
  await client.fetchProtectedResource({ access_token: 'bearer-token', token_type: 'Bearer' }, `${base}/a`);
  await client.fetchProtectedResource('string-token', `${base}/b`);
  expect(seen[0]?.headers.authorization).toBe('Bearer bearer-token');
  expect(seen[0]?.headers.dpop).toBeUndefined();
  expect(seen[1]?.headers.authorization).toBe('DPoP string-token');
  expect(typeof seen[1]?.headers.dpop).toBe('string');
});

test('a nonce challenge is answered once; the nonce is remembered for the next call', async () => {
  nonceMode = 'required';
  nonce = randomBytes(8).toString('hex');
  const client = new AuthClient({ issuerBaseURL: ISSUER, clientID: 'c', useDPoP: true });
  const res = await client.fetchProtectedResource('bound', `${base}/orders`, { body: 'x', method: 'PUT' });
  expect(res.status).toBe(200);
  expect(seen).toHaveLength(2);
  expect((await jwtVerify(seen[0]?.headers.dpop as string, EmbeddedJWK)).payload.nonce).toBeUndefined();
  expect((await jwtVerify(seen[1]?.headers.dpop as string, EmbeddedJWK)).payload.nonce).toBe(nonce);
  expect(seen[1]?.body).toBe('x');

  await client.fetchProtectedResource('bound', `${base}/orders`);
  expect(seen).toHaveLength(3);
});

test('a server that never accepts the nonce gets exactly two requests, and its 401 comes back', async () => {
  nonceMode = 'always-new';
  const client = new AuthClient({ issuerBaseURL: ISSUER, clientID: 'c', useDPoP: true });
  const res = await client.fetchProtectedResource('bound', `${base}/orders`);
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate')).toMatch(/use_dpop_nonce/);
  expect(seen).toHaveLength(2);
});

test('any other challenge is an ordinary response, not an error', async () => {
  const client = new AuthClient({ issuerBaseURL: ISSUER, clientID: 'c' });
  const res = await client.fetchProtectedResource('expired', `${base}/forbidden`);
  expect(res.status).toBe(401);
  expect(await res.json()).toEqual({ error: 'invalid_token' });
  expect(seen).toHaveLength(1);
});

test('mistakes and failures are OidcErrors that never echo the token', async () => {
  const plain = new AuthClient({ issuerBaseURL: ISSUER, clientID: 'c' });
  const secret = 'token-value-that-must-not-leak';

  const bound = await caught(plain.fetchProtectedResource({ access_token: secret, token_type: 'DPoP' }, `${base}/x`));
  expect(bound.code).toBe('ERR_DPOP');
  const insecure = await caught(plain.fetchProtectedResource(secret, 'http://api.example.com/x'));
  expect(insecure.code).toBe('ERR_BAD_REQUEST');
  expect(insecure.message).toMatch(/https/);
  const relative = await caught(plain.fetchProtectedResource(secret, '/x'));
  expect(relative.code).toBe('ERR_BAD_REQUEST');
  const empty = await caught(plain.fetchProtectedResource('', `${base}/x`));
  expect(empty.code).toBe('ERR_BAD_REQUEST');

  const closed = await freePort();
  const down = await caught(plain.fetchProtectedResource(secret, `http://127.0.0.1:${closed}/x`));
  expect(down.code).toBe('ERR_RESOURCE_UNREACHABLE');
  expect(down.status).toBe(502);

  const controller = new AbortController();
  controller.abort();
  const aborted = await caught(plain.fetchProtectedResource(secret, `${base}/x`, { signal: controller.signal }));
  expect(aborted.code).toBe('ERR_ABORTED');

  for (const err of [bound, insecure, relative, down, aborted]) expect(err.message).not.toContain(secret);
  expect(seen).toHaveLength(0);
});
