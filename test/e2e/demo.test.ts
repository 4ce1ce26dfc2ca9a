/**
 * A real browser (Debian's Chromium through playwright-core) goes through the
 * demo: login at the embedded OP's login page, profile, API call, an access
 * token that expires and is refreshed, logout.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { freePort } from '../helpers/app.js';
import { startDemo, type DemoProcess } from './demo-process.js';

const CHROMIUM = '/usr/bin/chromium';
const ACCESS_TOKEN_TTL = 6;
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const DEMO_USER = { username: 'demo@example.com', password: 'demo-password' };

let demo: DemoProcess | undefined;
let context: BrowserContext | undefined;
let profileDir: string | undefined;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the browser test needs Debian's Chromium (apt-get install -y chromium)`);
  }
  demo = await startDemo({ port: await freePort(), opPort: await freePort(), accessTokenTTL: ACCESS_TOKEN_TTL });
  profileDir = mkdtempSync(join(tmpdir(), 'express-oidc-e2e-'));
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});

afterAll(async () => {
  await context?.close();
  if (profileDir !== undefined) rmSync(profileDir, { recursive: true, force: true });
  await demo?.stop();
});

async function expiryOnApiPage(page: Page): Promise<number> {
  const value = await page.locator('#token-expiry').getAttribute('data-expires-at');
  return Number(value);
}

test('sign in through the login page, call the API, watch the token refresh, sign out', async () => {
  const d = demo as DemoProcess;
  const page = (context as BrowserContext).pages()[0] ?? (await (context as BrowserContext).newPage());

  // Home -> Log in -> the OP's login page.
  await page.goto(d.appURL);
  await page.click('#login');
  await page.waitForURL((url) => url.origin === d.opURL && url.pathname.startsWith('/interaction/'));

  // A wrong password is refused by the OP.
  await page.fill('#username', DEMO_USER.username);
  await page.fill('#password', 'not-the-password');
  await page.click('button[type=submit]');
  await expect(page.locator('.error').textContent()).resolves.toContain('Wrong email or password');

  // The right one brings the user back to the profile.
  await page.fill('#username', DEMO_USER.username);
  await page.fill('#password', DEMO_USER.password);
  await page.click('button[type=submit]');
  await page.waitForURL(`${d.appURL}/profile`);
  const claims = await page.locator('#claims').textContent();
  expect(claims).toContain('demo@example.com');
  expect(claims).toContain('Dana Demo');
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'profile.png'), fullPage: true });

  // The API accepts the access token.
  await page.click('text=Call the API >> nth=0');
  await page.waitForURL(`${d.appURL}/call-api`);
  expect(await page.locator('#api-status').textContent()).toBe('200');
  expect(await page.locator('#api-answer').textContent()).toContain('checked your access token');
  const firstExpiry = await expiryOnApiPage(page);
  const now = Date.now() / 1000;
  // The token lives ACCESS_TOKEN_TTL seconds (this also bounds the wait below).
  expect(firstExpiry).toBeGreaterThan(now);
  expect(firstExpiry).toBeLessThanOrEqual(now + ACCESS_TOKEN_TTL + 1);

  // Past its lifetime, the next call goes out with a refreshed token.
  await page.waitForTimeout(Math.max(0, (firstExpiry + 1) * 1000 - Date.now()));
  await page.click('#call-again');
  await page.waitForLoadState();
  expect(await page.locator('#api-status').textContent()).toBe('200');
  const secondExpiry = await expiryOnApiPage(page);
  expect(secondExpiry).toBeGreaterThan(firstExpiry);

  // Log out: the app's session and the OP's session end; the profile asks for a login again.
  await page.click('text=Log out');
  await page.waitForURL(`${d.appURL}/`);
  await expect(page.locator('#login').isVisible()).resolves.toBe(true);
  const cookies = await (context as BrowserContext).cookies(d.appURL);
  expect(cookies.map((c) => c.name)).not.toContain('appSession');

  await page.goto(`${d.appURL}/profile`);
  await page.waitForURL((url) => url.origin === d.opURL && url.pathname.startsWith('/interaction/'));
  await expect(page.locator('#password').isVisible()).resolves.toBe(true);

  // Ctrl-C stops the demo (app and OP) cleanly.
  expect(await d.stop()).toBe(0);
  expect(d.output()).toContain('SIGINT: stopping');
});
