/**
 * The reflected XSS attack, in Chromium: a page on another site auto-submits a form to the app's
 * `/callback` whose parameter *name* is markup. The app parsed the body with
 * `express.urlencoded({ extended: true })`, so the library sees a nested parameter and refuses it
 * with a 400. The script in the name must not run on the app's origin, neither with the README's
 * error handler (text/plain) nor with a handler that sends the message as HTML.
 */
import http from 'node:http';
import { existsSync } from 'node:fs';
import type { Express, NextFunction, Request, Response } from 'express';
import { chromium, type Browser } from 'playwright-core';
import { loadExpress, startApp, type TestApp } from '../helpers/app.js';
import { clientsFor, freePorts } from '../helpers/flow.js';
import { createTestOP, type TestOP } from '../helpers/op.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
/** Runs on load when rendered as HTML; short enough for any truncation of the name. */
const PAYLOAD = '<svg/onload=document.title=1337>';

let op: TestOP;
let readmeHandler: TestApp;
let htmlHandler: TestApp;
let attacker: http.Server;
let attackerURL: string;
let browser: Browser;

function sendsText(app: Express): void {
  app.use((err: { status?: number; expose?: boolean; message: string }, _req: Request, res: Response, _next: NextFunction) => {
    res.status(err.status ?? 500).type('text/plain').send(err.expose ? err.message : 'Something went wrong');
  });
}
/** The handler the README recommended before: Express sends a string as text/html. */
function sendsHtml(app: Express): void {
  app.use((err: { status?: number; expose?: boolean; message: string }, _req: Request, res: Response, _next: NextFunction) => {
    res.status(err.status ?? 500).send(err.expose ? err.message : 'Something went wrong');
  });
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: the browser test needs Debian's Chromium (apt-get install -y chromium)`);
  const [p1, p2, p3] = (await freePorts(3)) as [number, number, number];
  const bases = [`http://127.0.0.1:${p1}`, `http://127.0.0.1:${p2}`];
  op = await createTestOP({ appBaseURL: bases[0], clients: clientsFor(bases) });
  const express = await loadExpress();
  readmeHandler = await startApp(op.issuer, p1, {}, sendsText, [express.urlencoded({ extended: true })]);
  htmlHandler = await startApp(op.issuer, p2, {}, sendsHtml, [express.urlencoded({ extended: true })]);
  // The attacker's site: `localhost` is another site than the app's 127.0.0.1.
  attackerURL = `http://localhost:${p3}`;
  attacker = http.createServer((req, res) => {
    const target = new URL(req.url ?? '/', attackerURL).searchParams.get('target') ?? '';
    res.setHeader('content-type', 'text/html');
    res.end(
      `<!doctype html><title>attacker</title><form method="post" action="${escapeAttribute(target)}/callback">` +
        `<input name="${escapeAttribute(PAYLOAD)}[a]" value="1"></form><script>document.forms[0].submit()</script>`,
    );
  });
  await new Promise<void>((resolve) => attacker.listen(p3, '127.0.0.1', resolve));
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
});

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (attacker ? attacker.close(() => resolve()) : resolve()));
  await Promise.all([readmeHandler?.close(), htmlHandler?.close()]);
  await op?.stop();
});

async function attack(app: TestApp): Promise<{ status: number; title: string; text: string }> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const answer = page.waitForResponse((res) => res.url() === `${app.url}/callback`);
    await page.goto(`${attackerURL}/?target=${encodeURIComponent(app.url)}`);
    const response = await answer;
    await page.waitForLoadState('load');
    // Give an onload handler every chance to run before reading the title.
    await page.waitForTimeout(300);
    return { status: response.status(), title: await page.title(), text: await page.evaluate(() => document.body?.innerText ?? document.documentElement.textContent ?? '') };
  } finally {
    await context.close();
  }
}

test.each([
  ['the README error handler (text/plain)', () => readmeHandler],
  ['a handler that sends the message as HTML', () => htmlHandler],
])('the auto-submitted attack form runs no script on the app, with %s', async (_name, app) => {
  const result = await attack(app());
  // The attack reached the library and was refused as bad input...
  expect(result.status).toBe(400);
  expect(result.text).toContain('unexpected shape');
  // ...and its markup did not run.
  expect(result.title).not.toBe('1337');
  expect(result.text).not.toContain('svg');
});
