/**
 * Transaction cookies are bounded in bytes per browser, whatever the concurrency: N logins
 * started at once (restored tabs, or another site's page) with long deep links each see only the
 * cookies sent before them, so each adds its own; every cookie is small, and the next request
 * brings the browser back under the budget instead of a 431 on every route for ten minutes.
 */
import { Browser } from '../helpers/browser.js';
import { freePort, startApp, type TestApp } from '../helpers/app.js';
import { transactionCookies } from '../helpers/flow.js';
import { createTestOP, type TestOP } from '../helpers/op.js';
import { MAX_TRANSACTION_COOKIE_BYTES, TRANSACTION_BUDGET_BYTES } from '../../src/transaction/index.js';

let op: TestOP;
let app: TestApp;

beforeAll(async () => {
  const port = await freePort();
  op = await createTestOP({ appBaseURL: `http://127.0.0.1:${port}` });
  app = await startApp(op.issuer, port);
});
afterAll(async () => {
  await app?.close();
  await op?.stop();
});

const deepLink = (i: number) => `/reports/${i}?${'filter=region-emea-and-apac&'.repeat(70)}`; // ~2 kB

/** Bytes the browser's transaction cookies take in a Cookie header. */
function transactionBytes(browser: Browser): number {
  return browser.cookies
    .all()
    .filter((c) => c.name.startsWith('auth_verification.'))
    .reduce((sum, c) => sum + c.name.length + 1 + c.value.length + 2, 0);
}

/** Starts `count` logins at once: every request carries the cookies the browser had before any answer. */
async function parallelLogins(browser: Browser, count: number, returnTo: (i: number) => string): Promise<number[]> {
  const cookie = browser.cookies.headerFor(new URL(app.url));
  const responses = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      fetch(`${app.url}/login?returnTo=${encodeURIComponent(returnTo(i))}`, { redirect: 'manual', headers: cookie === undefined ? {} : { cookie } }),
    ),
  );
  for (const res of responses) for (const header of res.headers.getSetCookie()) browser.cookies.setFromHeader(header, new URL(app.url));
  return responses.map((res) => res.status);
}

test('8 parallel logins with 2 kB deep links: small cookies, and the next request is answered and brings the browser under budget', async () => {
  const browser = new Browser();
  expect(await parallelLogins(browser, 8, deepLink)).toEqual(Array(8).fill(302));
  expect(transactionCookies(browser)).toHaveLength(8);
  for (const c of transactionCookies(browser)) expect(c.name.length + 1 + c.value.length).toBeLessThanOrEqual(MAX_TRANSACTION_COOKIE_BYTES);
  // Any route answers (no 431), and its answer clears the oldest transaction cookies.
  const home = await browser.get(`${app.url}/`, { headers: { accept: 'application/json' } });
  expect(home.status).toBe(200);
  expect(transactionBytes(browser)).toBeLessThanOrEqual(TRANSACTION_BUDGET_BYTES);
  // A new login still works, and lands on the app (its deep link was too long to carry: the root).
  const landed = await op.signIn(browser, `${app.url}/login?returnTo=${encodeURIComponent(deepLink(99))}`);
  expect(landed.status).toBe(200);
  expect(new URL(landed.url).pathname).toBe('/');
});

test('a second wave of parallel logins on top of the first stays bounded at every step', async () => {
  const browser = new Browser();
  const usual = (i: number) => `/orders/${i}?tab=items&${'x'.repeat(400)}`; // fits in a cookie
  for (let wave = 0; wave < 3; wave += 1) {
    expect(await parallelLogins(browser, 6, usual)).toEqual(Array(6).fill(302));
    // Each wave adds at most its own 6 small cookies onto a browser that was within budget.
    expect(transactionBytes(browser)).toBeLessThanOrEqual(TRANSACTION_BUDGET_BYTES + 6 * MAX_TRANSACTION_COOKIE_BYTES);
    expect((await browser.get(`${app.url}/login`, { follow: false })).status).toBe(302);
    expect(transactionBytes(browser)).toBeLessThanOrEqual(TRANSACTION_BUDGET_BYTES);
  }
});

test('five sequential logins with long deep links stay within the budget', async () => {
  const browser = new Browser();
  for (let i = 0; i < 5; i += 1) expect((await browser.get(`${app.url}/login?returnTo=${encodeURIComponent(deepLink(i))}`, { follow: false })).status).toBe(302);
  expect(transactionBytes(browser)).toBeLessThanOrEqual(TRANSACTION_BUDGET_BYTES);
});

describe("at Node's 16 kB header limit", () => {
  /** Stale transaction cookies (forged, as a browser may hold from an older version) of `bytes` in all. */
  function stale(browser: Browser, bytes: number): void {
    for (let i = 0; transactionBytes(browser) + 1_000 <= bytes; i += 1) {
      browser.cookies.set({ name: `auth_verification.stale-${String(i).padStart(4, '0')}-abcdefghijkl`, value: 'v'.repeat(950) });
    }
  }

  test('just under it, the first request clears the stale transaction cookies', async () => {
    const browser = new Browser();
    stale(browser, 15_500);
    expect(transactionBytes(browser)).toBeGreaterThan(14_500);
    const res = await browser.get(`${app.url}/`, { headers: { accept: 'application/json' } });
    expect(res.status).toBe(200);
    expect(transactionBytes(browser)).toBeLessThanOrEqual(TRANSACTION_BUDGET_BYTES);
  });

  test('over it, Node answers 431 before any middleware runs: the caps keep browsers far from it (16 parallel logins of a full cookie)', async () => {
    const browser = new Browser();
    stale(browser, 17_500);
    const res = await browser.get(`${app.url}/`);
    expect(res.status).toBe(431);
  });
});
