/**
 * The log tells a story, through the `logger` option and `DEBUG` alike:
 * which library route handled a request, each OP call with its duration,
 * why a request was refused, and a line for a failed code exchange. Hostile
 * values are sent on the way (a forged code, a forged cookie, a header in the
 * query); none of them, and no secret, token, code or cookie value of the
 * real login, appears in any line.
 */
import { randomBytes } from 'node:crypto';
import { format } from 'node:util';
import createDebug from 'debug';
import { claimEquals } from '../../src/index.js';
import { Browser } from '../helpers/browser.js';
import { APP_SECRET, freePort, startApp, type TestApp } from '../helpers/app.js';
import { createTestOP, TEST_CLIENT_SECRET, USERS, type TestOP } from '../helpers/op.js';

let op: TestOP;
let app: TestApp;
const logged: Array<{ level: string; line: string }> = [];
const debugLines: string[] = [];
const originalLog = createDebug.log;
let previouslyEnabled = '';

const logger = {
  debug: (line: string) => logged.push({ level: 'debug', line }),
  info: (line: string) => logged.push({ level: 'info', line }),
  warn: (line: string) => logged.push({ level: 'warn', line }),
  error: (line: string) => logged.push({ level: 'error', line }),
};

beforeAll(async () => {
  previouslyEnabled = createDebug.disable();
  createDebug.enable('express-oidc:*');
  createDebug.log = (...args: unknown[]) => {
    debugLines.push(format(...args));
  };
  const port = await freePort();
  op = await createTestOP({ appBaseURL: `http://127.0.0.1:${port}` });
  app = await startApp(op.issuer, port, { logger }, (express) => {
    express.get('/admins', claimEquals('role', 'admin'), (_req, res) => {
      res.json({ admin: true });
    });
    express.get('/tokens', (req, res) => {
      res.json({ idToken: req.oidc.idToken, accessToken: req.oidc.accessToken?.access_token, refreshToken: req.oidc.refreshToken });
    });
  });
});

afterAll(async () => {
  await app?.close();
  await op?.stop();
  createDebug.log = originalLog;
  createDebug.disable();
  if (previouslyEnabled) createDebug.enable(previouslyEnabled);
});

test('a failed code exchange, refusals and a login, told with durations and without secrets', async () => {
  const hostile = {
    code: `forged-code-${randomBytes(12).toString('hex')}`,
    cookie: `forged-cookie-${randomBytes(12).toString('hex')}`,
    injected: `\r\nX-Injected: ${randomBytes(6).toString('hex')}`,
  };
  const secrets = new Map<string, string>([
    ['client secret', TEST_CLIENT_SECRET],
    ['cookie secret', APP_SECRET],
    ['password', USERS.alice.password],
    ['forged code', hostile.code],
    ['forged cookie', hostile.cookie],
    ['injected header', hostile.injected.trim()],
  ]);
  const browser = new Browser();

  // 1. A login whose callback brings a forged code (with the right state): the OP refuses the exchange.
  const toOP = await browser.get(`${app.url}/login?returnTo=${encodeURIComponent(`/x${hostile.injected}`)}`, { follow: false });
  expect(toOP.status).toBe(302);
  const state = new URL(toOP.headers.get('location') as string).searchParams.get('state') as string;
  for (const cookie of browser.cookies.all()) secrets.set(`cookie ${cookie.name}`, cookie.value);
  const forged = await browser.get(`${app.url}/callback?${new URLSearchParams({ state, code: hostile.code, iss: op.issuer })}`);
  expect(forged.status).toBeGreaterThanOrEqual(400);
  const exchangeCode = (JSON.parse(forged.body) as { code: string }).code;

  // 2. Refused: an API call without a session (401), with a forged session cookie.
  const anonymous = await browser.get(`${app.url}/profile`, { headers: { accept: 'application/json', cookie: `appSession=${hostile.cookie}` } });
  expect(anonymous.status).toBe(401);

  // 3. A real login, then a claim check that fails (403).
  const landed = await op.signIn(browser, `${app.url}/profile`);
  expect(landed.url).toBe(`${app.url}/profile`);
  for (const url of landed.redirects) {
    const params = new URL(url).searchParams;
    for (const name of ['code', 'state']) if (params.get(name)) secrets.set(`${name} of ${url}`, params.get(name) as string);
  }
  for (const cookie of browser.cookies.all()) secrets.set(`cookie ${cookie.name}`, cookie.value);
  const tokens = JSON.parse((await browser.get(`${app.url}/tokens`)).body) as Record<string, string>;
  for (const [name, value] of Object.entries(tokens)) if (value) secrets.set(name, value);
  expect((await browser.get(`${app.url}/admins`, { headers: { accept: 'application/json' } })).status).toBe(403);

  const lines = logged.map((entry) => entry.line);
  const story: Array<[level: string, line: RegExp]> = [
    ['debug', /^express-oidc:route handling GET \/login$/],
    ['debug', /^express-oidc:op discovery \d+ ms$/],
    ['debug', /^express-oidc:route handling GET \/callback$/],
    ['debug', /^express-oidc:op token \d+ ms \(HTTP 400\)$/],
    ['warn', new RegExp(`^express-oidc:callback code exchange failed \\(${exchangeCode}\\)$`)],
    ['info', new RegExp(`^express-oidc:route GET /callback refused: ${exchangeCode} \\(4\\d\\d\\)$`)],
    ['info', /^express-oidc:guard refused: login required, answering 401 \(ERR_NOT_AUTHENTICATED\)/],
    ['debug', /^express-oidc:op token \d+ ms \(HTTP 200\)$/],
    ['debug', /^express-oidc:op jwks \d+ ms \(HTTP 200\)$/],
    ['debug', /^express-oidc:callback login complete$/],
    ['info', /^express-oidc:guard refused: the claim check failed, answering 403 \(ERR_FORBIDDEN_CLAIM\)$/],
  ];
  let from = 0;
  for (const [level, step] of story) {
    const at = logged.slice(from).findIndex((entry) => step.test(entry.line));
    expect({ step: step.source, found: at >= 0 }).toEqual({ step: step.source, found: true });
    expect({ step: step.source, level: logged[from + at]?.level }).toEqual({ step: step.source, level });
    from += at + 1;
  }

  // DEBUG=express-oidc:* shows the same lines (debug adds its own colors and timing).
  const debugText = debugLines.join('\n');
  for (const line of lines) expect({ line, inDebug: debugText.includes(line.replace(/^(\S+) /, '')) }).toEqual({ line, inDebug: true });

  // Whole values, and the parts of JWTs (a payload or a signature alone is as bad).
  expect(secrets.size).toBeGreaterThanOrEqual(12);
  const everything = `${lines.join('\n')}\n${debugText}`;
  for (const [what, value] of secrets) {
    const pieces = [value, ...value.split('.').filter((piece) => piece.length >= 16)];
    for (const piece of pieces) expect({ what, leaked: everything.includes(piece) }).toEqual({ what, leaked: false });
  }
  expect(everything).not.toMatch(/X-Injected/);
});

test('an option that is not a logger fails at start-up, naming it', async () => {
  const { auth } = await import('../../src/index.js');
  expect(() => auth({ issuerBaseURL: op.issuer, baseURL: app.url, clientID: 'x', secret: APP_SECRET, logger: { debug() {} } as never })).toThrow(
    'Invalid option "logger": must be a logger with debug, info, warn and error functions.',
  );
});
