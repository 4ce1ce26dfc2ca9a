/**
 * Logout CSRF in Chromium: a page on another site (`localhost`, while the app is on 127.0.0.1)
 * links to the app's `/logout`, or auto-submits a form to it. Neither ends the session: the link
 * shows a confirmation page whose button logs out; the post is refused. A link on the app's own
 * page logs out at once.
 */
import http from 'node:http';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startApp, type TestApp } from '../helpers/app.js';
import { freePorts } from '../helpers/flow.js';
import { createTestOP, USERS, type TestOP } from '../helpers/op.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

let op: TestOP;
let app: TestApp;
let attacker: http.Server;
let attackerURL: string;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: the browser test needs Debian's Chromium (apt-get install -y chromium)`);
  const [appPort, attackerPort] = (await freePorts(2)) as [number, number];
  op = await createTestOP({ appBaseURL: `http://127.0.0.1:${appPort}` });
  app = await startApp(op.issuer, appPort, {}, (express) => {
    express.get('/links', (_req, res) => {
      res.type('html').send('<!doctype html><title>app</title><a id="logout" href="/logout">Log out</a>');
    });
  });
  attackerURL = `http://localhost:${attackerPort}`;
  attacker = http.createServer((req, res) => {
    res.setHeader('content-type', 'text/html');
    const logoutURL = `${app.url}/logout`;
    if (req.url === '/post') {
      res.end(`<!doctype html><title>attacker</title><form method="post" action="${logoutURL}"></form><script>document.forms[0].submit()</script>`);
    } else {
      res.end(`<!doctype html><title>attacker</title><a id="go" href="${logoutURL}">free prize</a>`);
    }
  });
  await new Promise<void>((resolve) => attacker.listen(attackerPort, '127.0.0.1', resolve));
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
});

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (attacker ? attacker.close(() => resolve()) : resolve()));
  await app?.close();
  await op?.stop();
});

async function signIn(page: Page): Promise<void> {
  await page.goto(`${app.url}/login`);
  await page.fill('input[name=username]', USERS.alice.username);
  await page.fill('input[name=password]', USERS.alice.password);
  await page.click('button[type=submit]');
  await page.waitForURL((url) => url.origin === app.url || url.pathname.endsWith('/consent') || /interaction/.test(url.pathname));
  if (new URL(page.url()).origin !== app.url) {
    await page.click('text=Allow');
    await page.waitForURL((url) => url.origin === app.url);
  }
  expect(await signedIn(page)).toBe(true);
}

async function signedIn(page: Page): Promise<boolean> {
  const answer = await page.context().request.get(`${app.url}/`);
  return ((await answer.json()) as { authenticated: boolean }).authenticated;
}

test("another site's link to /logout gets a confirmation page; its auto-submitted post is refused; the confirmation logs out", async () => {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await signIn(page);

    await page.goto(`${attackerURL}/`);
    await page.click('#go');
    await page.waitForURL(`${app.url}/logout`);
    await expect(page.locator('#confirm-logout').isVisible()).resolves.toBe(true);
    expect(await signedIn(page)).toBe(true);

    const refused = page.waitForResponse((res) => res.url() === `${app.url}/logout` && res.request().method() === 'POST');
    await page.goto(`${attackerURL}/post`);
    expect((await refused).status()).toBe(403);
    expect(await signedIn(page)).toBe(true);

    await page.goto(`${attackerURL}/`);
    await page.click('#go');
    await page.waitForURL(`${app.url}/logout`);
    await page.click('#confirm-logout');
    await page.waitForURL(`${app.url}/`);
    expect(await signedIn(page)).toBe(false);
  } finally {
    await context.close();
  }
});

test("a link on the app's own page logs out at once", async () => {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await signIn(page);
    await page.goto(`${app.url}/links`);
    await page.click('#logout');
    await page.waitForURL(`${app.url}/`);
    expect(await signedIn(page)).toBe(false);
  } finally {
    await context.close();
  }
});
