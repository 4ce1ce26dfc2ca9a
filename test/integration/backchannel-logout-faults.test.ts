/**
 * Back-channel logout when the OP's keys cannot be fetched, and the replay window by value.
 * A JWKS fetch that times out is the OP's outage, not a bad token: the answer is a 5xx so the OP
 * retries (a 400 would drop the logout and leave the sessions alive), and the token's jti is not
 * spent, so the retry succeeds. No browser sign-in: the app validates a token signed here with
 * the test OP's own key, and fetches the OP's JWKS for the first time while doing so.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { SignJWT, importJWK, type JWK, type JWTPayload } from 'jose';

import { MemoryLogoutIndex } from '../../src/session/logout-index.js';
import { freePort, startApp, type TestApp } from '../helpers/app.js';
import { TEST_CLIENT_ID, createTestOP, type TestOP } from '../helpers/op.js';

const HTTP_TIMEOUT_MS = 800;
const CLOCK_TOLERANCE = 7;

/** The real in-process index, recording the window of each jti claim. */
class RecordingIndex extends MemoryLogoutIndex {
  readonly claims: Array<{ id: string; ttlSeconds: number }> = [];
  override claimOnce(id: string, ttlSeconds: number): Promise<boolean> {
    this.claims.push({ id, ttlSeconds });
    return super.claimOnce(id, ttlSeconds);
  }
}

let op: TestOP;
let app: TestApp;
const index = new RecordingIndex();
/** While set, the OP's JWKS endpoint answers only after this many milliseconds. */
let jwksDelayMs = 0;

beforeAll(async () => {
  const port = await freePort();
  op = await createTestOP({
    appBaseURL: `http://127.0.0.1:${port}`,
    middleware: [
      async (ctx, next) => {
        if (ctx.path === '/jwks' && jwksDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, jwksDelayMs).unref());
        await next();
      },
    ],
  });
  app = await startApp(op.issuer, port, { backchannelLogout: { index }, httpTimeout: HTTP_TIMEOUT_MS, clockTolerance: CLOCK_TOLERANCE });
});
afterAll(async () => {
  await app?.close();
  await op?.stop();
});

async function logoutToken(overrides: Record<string, unknown> = {}): Promise<string> {
  const jwk = op.signingKeys().privateJwks[0] as JWK;
  const now = Math.floor(Date.now() / 1000);
  const payload: JWTPayload = {
    iss: op.issuer,
    aud: TEST_CLIENT_ID,
    iat: now,
    exp: now + 120,
    jti: randomUUID(),
    sid: 'op-session-1',
    events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
    ...overrides,
  };
  return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: jwk.kid as string, typ: 'logout+jwt' }).sign(await importJWK(jwk, 'RS256'));
}

function post(token: string): Promise<Response> {
  return fetch(`${app.url}/backchannel-logout`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ logout_token: token }).toString(),
  });
}

test('a JWKS timeout is answered with a 5xx, within the timeout, and the OP can retry the same token', async () => {
  const token = await logoutToken();
  jwksDelayMs = HTTP_TIMEOUT_MS * 4;
  const started = Date.now();
  const res = await post(token);
  const took = Date.now() - started;
  jwksDelayMs = 0;
  expect(res.status).toBeGreaterThanOrEqual(500);
  const body = (await res.json()) as { code?: string };
  expect(body.code).toBe('ERR_OP_UNREACHABLE');
  // The app gave up on the JWKS after httpTimeout, not after the OP finally answered.
  expect(took).toBeLessThan(HTTP_TIMEOUT_MS * 3);
  expect(index.claims.map((c) => c.id)).not.toContain(JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()).jti);

  const retry = await post(token);
  expect(retry.status).toBe(200);
});

test('a jti is remembered for 120 s plus twice the clock tolerance', async () => {
  const jti = randomUUID();
  expect((await post(await logoutToken({ jti }))).status).toBe(200);
  expect(index.claims.find((c) => c.id === jti)?.ttlSeconds).toBe(120 + 2 * CLOCK_TOLERANCE);
  expect((await post(await logoutToken({ jti }))).status).toBe(400);
});

test('a sub-only token must carry a short string sub', async () => {
  for (const sub of ['', 42, 's'.repeat(257)]) {
    const res = await post(await logoutToken({ sid: undefined, sub }));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error_description?: string }).error_description).toMatch(/"sub"/);
  }
  expect((await post(await logoutToken({ sid: undefined, sub: 's'.repeat(256) }))).status).toBe(200);
});

test('a logout_token of 8192 characters is read (and refused as malformed), one of 8193 is refused unread', async () => {
  const read = await post('a'.repeat(8 * 1024));
  expect(read.status).toBe(400);
  expect(((await read.json()) as { error_description?: string }).error_description).toBe('logout token invalid: malformed token');
  const unread = await post('a'.repeat(8 * 1024 + 1));
  expect(unread.status).toBe(400);
  expect(((await unread.json()) as { error_description?: string }).error_description).toBe('parameter "logout_token" is too long');
});
