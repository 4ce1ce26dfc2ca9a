/**
 * Machine-to-machine tokens in an Express app: `req.oidc.clientCredentials()` and
 * `middleware.clientCredentials()` share one cache; 20 concurrent requests cost the OP one token
 * request; a token is renewed once it expires (the OP issues 2-second tokens here).
 */
import { afterAll, beforeAll, beforeEach, expect, test } from '@jest/globals';
import { decodeJwt } from 'jose';

import { freePort, startApp, type TestApp } from '../helpers/app.js';
import { createTestOP, type TestOP } from '../helpers/op.js';

const AUDIENCE = 'https://api.example.com';
const TTL = 2;

let op: TestOP;
let app: TestApp;

beforeAll(async () => {
  const port = await freePort();
  op = await createTestOP({ appBaseURL: `http://127.0.0.1:${port}`, accessTokenTTL: TTL });
  app = await startApp(op.issuer, port, {}, (express) => {
    express.get('/m2m', async (req, res, next) => {
      try {
        const organization = typeof req.query.organization === 'string' ? req.query.organization : undefined;
        const audience = typeof req.query.audience === 'string' ? req.query.audience : '';
        const token = await req.oidc.clientCredentials({ audience, ...(organization === undefined ? {} : { organization }) });
        res.json({ accessToken: token.accessToken, tokenType: token.tokenType, expiresIn: token.expiresIn });
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
// One cache for the whole file: each test uses its own audience.
beforeEach(() => op.resetCounts());

const requests = () => op.counts.token.client_credentials ?? 0;

async function m2m(query: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${app.url}/m2m?${query}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

test('20 concurrent callers (requests and the middleware) get one token from one OP request', async () => {
  const audience = `${AUDIENCE}/concurrent`;
  const [answers, direct] = await Promise.all([
    Promise.all(Array.from({ length: 15 }, () => m2m(`audience=${encodeURIComponent(audience)}&organization=org_acme`))),
    Promise.all(Array.from({ length: 5 }, () => app.middleware.clientCredentials({ audience, organization: 'org_acme' }))),
  ]);
  expect(answers.every((a) => a.status === 200)).toBe(true);
  const tokens = new Set([...answers.map((a) => a.body.accessToken), ...direct.map((t) => t.accessToken)]);
  expect(tokens.size).toBe(1);
  expect(requests()).toBe(1);
  const claims = decodeJwt(answers[0]?.body.accessToken as string);
  expect(claims.aud).toBe(audience);
  expect(claims.org_id).toBe('org_acme');
  expect(answers[0]?.body.tokenType).toBe('Bearer');
});

test('the token is renewed after it expires', async () => {
  const audience = `${AUDIENCE}/renewal`;
  const first = await app.middleware.clientCredentials({ audience });
  expect(requests()).toBe(1);
  const firstExp = decodeJwt(first.accessToken).exp as number;

  // Past the first token's expiry (bounded wait: the OP issues TTL-second tokens).
  await new Promise((resolve) => setTimeout(resolve, TTL * 1000 + 200));
  expect(Date.now() / 1000).toBeGreaterThan(firstExp);

  const viaRoute = await m2m(`audience=${encodeURIComponent(audience)}`);
  expect(viaRoute.status).toBe(200);
  expect(viaRoute.body.accessToken).not.toBe(first.accessToken);
  expect(requests()).toBe(2);
  expect(decodeJwt(viaRoute.body.accessToken as string).exp as number).toBeGreaterThan(Date.now() / 1000);
});

test('a missing audience is a 400 through the error handler', async () => {
  const res = await m2m('');
  expect(res.status).toBe(400);
  expect(res.body.code).toBe('ERR_BAD_REQUEST');
  expect(requests()).toBe(0);
});
