/**
 * Tokens per API (`getAccessToken({ audience, scope })`) against the real test
 * OP with refresh-token rotation and reuse detection, and an Auth0-like
 * Multi-Resource Refresh Token policy (the refresh token may be redeemed for
 * the two APIs below): one grant per session and API under concurrency, one
 * refresh token never presented twice, the per-API cache bounded, and a
 * refusal for one API leaves the user signed in.
 */
import { decodeJwt } from 'jose';
import type { Browser } from '../helpers/browser.js';
import { JSON_ACCEPT, signIn, sleepUntil, startRefreshSetup, stored, type RefreshSetup } from '../helpers/refresh-app.js';

const ORDERS = 'https://orders.example.com';
const REPORTS = 'https://reports.example.com';
const NOT_ALLOWED = 'https://elsewhere.example.com';

let setup: RefreshSetup;
afterEach(async () => {
  await setup?.close();
});

const apiURL = (audience: string, scope?: string) => `${setup.app.url}/api-token?audience=${encodeURIComponent(audience)}${scope === undefined ? '' : `&scope=${encodeURIComponent(scope)}`}`;

async function apiToken(browser: Browser, audience: string, scope?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await browser.get(apiURL(audience, scope), JSON_ACCEPT);
  return { status: res.status, body: JSON.parse(res.body) as Record<string, unknown> };
}

/** Refresh tokens the OP saw more than once. */
function presentedTwice(): string[] {
  const seen = new Map<string, number>();
  for (const request of setup.op.tokenRequests) {
    if (request.grantType !== 'refresh_token') continue;
    const token = String(request.params.refresh_token);
    seen.set(token, (seen.get(token) ?? 0) + 1);
  }
  return [...seen].filter(([, n]) => n > 1).map(([t, n]) => `${t.slice(0, 6)}… ×${n}`);
}

const grantsFor = (audience: string) => setup.op.tokenRequests.filter((r) => r.grantType === 'refresh_token' && r.params.audience === audience).length;

test('30 concurrent requests for a second API: exactly one grant, all get the same token, cached afterwards', async () => {
  setup = await startRefreshSetup({ accessTokenTTL: 60, multiResourceRefreshToken: [ORDERS, REPORTS] });
  const browser = await signIn(setup);
  const before = await stored(setup, browser);
  setup.op.resetCounts();

  const answers = await Promise.all(Array.from({ length: 30 }, () => apiToken(browser, ORDERS, 'read:data')));
  expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
  const tokens = new Set(answers.map((a) => a.body.access_token));
  expect(tokens.size).toBe(1);
  expect(setup.op.counts.token.refresh_token).toBe(1);
  expect(grantsFor(ORDERS)).toBe(1);
  const [request] = setup.op.tokenRequests;
  expect(request?.params).toMatchObject({ grant_type: 'refresh_token', audience: ORDERS, scope: 'read:data', refresh_token: before?.refresh_token });
  const token = [...tokens][0] as string;
  expect(decodeJwt(token).aud).toBe(ORDERS);

  // Cached: no further grant, the session's own token unchanged, the rotated refresh token stored.
  expect((await apiToken(browser, ORDERS, 'read:data')).body.access_token).toBe(token);
  expect(setup.op.counts.token.refresh_token).toBe(1);
  const after = await stored(setup, browser);
  expect(after?.access_token).toBe(before?.access_token);
  expect(after?.refresh_token).not.toBe(before?.refresh_token);
  // The session's own refresh then redeems the rotated refresh token.
  expect((await browser.post(`${setup.app.url}/refresh`, {}, JSON_ACCEPT)).status).toBe(200);
  expect(presentedTwice()).toEqual([]);
});

test('tokens of two APIs expiring together, with the session token: each refreshed once, no refresh token presented twice', async () => {
  setup = await startRefreshSetup({ accessTokenTTL: 6, multiResourceRefreshToken: [ORDERS, REPORTS] });
  const browser = await signIn(setup);
  const orders = await apiToken(browser, ORDERS);
  const reports = await apiToken(browser, REPORTS);
  expect([orders.status, reports.status]).toEqual([200, 200]);
  setup.op.resetCounts();
  await sleepUntil(Math.max(Number(orders.body.expires_at), Number(reports.body.expires_at)));

  const urls = Array.from({ length: 24 }, (_, i) => [apiURL(ORDERS), apiURL(REPORTS), `${setup.app.url}/token`][i % 3] as string);
  const answers = await Promise.all(urls.map((url) => browser.get(url, JSON_ACCEPT)));
  expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
  expect(grantsFor(ORDERS)).toBe(1);
  expect(grantsFor(REPORTS)).toBe(1);
  expect(setup.op.counts.token.refresh_token).toBe(3);
  expect(presentedTwice()).toEqual([]);
  const byUrl = new Map<string, Set<unknown>>();
  answers.forEach((a, i) => byUrl.set(urls[i] as string, (byUrl.get(urls[i] as string) ?? new Set()).add(JSON.parse(a.body).access_token)));
  for (const [, values] of byUrl) expect(values.size).toBe(1);
});

test('an API the OP refuses: a 502 for that call, the session and its other tokens stay', async () => {
  setup = await startRefreshSetup({ accessTokenTTL: 60, multiResourceRefreshToken: [ORDERS] });
  const browser = await signIn(setup);
  expect((await apiToken(browser, ORDERS)).status).toBe(200);
  const before = await stored(setup, browser);
  const refused = await apiToken(browser, NOT_ALLOWED);
  expect(refused.status).toBe(502);
  expect(refused.body).toMatchObject({ code: 'ERR_OP_ERROR', error: 'invalid_target' });
  expect(await stored(setup, browser)).toMatchObject({ refresh_token: before?.refresh_token, access_token: before?.access_token });
  // No failure backoff for a refusal: the next call for another API goes to the OP at once.
  expect((await apiToken(browser, ORDERS, 'read:data')).status).toBe(200);
  expect((await browser.get(`${setup.app.url}/profile`, JSON_ACCEPT)).status).toBe(200);
});

test('the cache keeps at most maxCachedApis APIs, dropping the least recently used', async () => {
  setup = await startRefreshSetup({ accessTokenTTL: 60, multiResourceRefreshToken: [ORDERS, REPORTS] }, { maxCachedApis: 2 });
  const browser = await signIn(setup);
  await apiToken(browser, ORDERS);
  await apiToken(browser, REPORTS);
  await apiToken(browser, ORDERS); // ORDERS used last
  await apiToken(browser, ORDERS, 'read:data');
  const apis = (await stored(setup, browser))?.apis as Record<string, unknown>;
  expect(Object.keys(apis).sort()).toEqual([`${ORDERS} `, `${ORDERS} read:data`].sort());
});

test("resourceParameter 'resource' names the API as an RFC 8707 resource indicator", async () => {
  setup = await startRefreshSetup({ accessTokenTTL: 60, multiResourceRefreshToken: [ORDERS] }, { resourceParameter: 'resource' });
  const browser = await signIn(setup);
  setup.op.resetCounts();
  const res = await apiToken(browser, ORDERS);
  expect(res.status).toBe(200);
  expect(setup.op.tokenRequests[0]?.params).toMatchObject({ grant_type: 'refresh_token', resource: ORDERS });
  expect(setup.op.tokenRequests[0]?.params.audience).toBeUndefined();
  expect(decodeJwt(String(res.body.access_token)).aud).toBe(ORDERS);
});
