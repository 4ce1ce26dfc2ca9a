/**
 * Clock skew between the app's server and the OP, for real: Glewlwyd runs in its own process on
 * the real clock, and the app's clock (Date, in this process) is moved just before the callback.
 * The error states the skew and `clockTolerance`, and the user gets a non-exposed 502.
 */
import { format } from 'node:util';
import { jest } from '@jest/globals';
import createDebug from 'debug';
import { OidcError } from '../../src/index.js';
import { Browser } from '../helpers/browser.js';
import { APP_SECRET, freePort, startApp, type TestApp } from '../helpers/app.js';
import { errorBody, whoAmI } from '../helpers/flow.js';
import { GLEWLWYD_USER, signInAtGlewlwyd, startGlewlwyd, type GlewlwydServer } from './glewlwyd.js';

const CLIENT_ID = 'interopclock';
const CLIENT_SECRET = 'interopclocksecret0123456789abcdef';
const ID_TOKEN_SECONDS = 120;
/** Every timer but Date stays real: only the app's idea of "now" moves. */
const REAL_TIMERS = ['hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] as const;

let op: GlewlwydServer;
let app: TestApp;
const lines: string[] = [];
const originalLog = createDebug.log;

beforeAll(async () => {
  createDebug.enable('express-oidc:*');
  createDebug.log = (...args: unknown[]) => {
    lines.push(format(...args));
  };
  op = await startGlewlwyd();
  // ID tokens live as long as access tokens at Glewlwyd: 2 minutes, so a clock 400 s ahead sees
  // them expired while the login's own transaction (10 minutes) is still valid.
  const issuer = await op.addOidc('oidc', { 'access-token-duration': ID_TOKEN_SECONDS });
  const port = await freePort();
  await op.addClient({ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uri: [`http://127.0.0.1:${port}/callback`] });
  app = await startApp(issuer, port, { clientID: CLIENT_ID, clientSecret: CLIENT_SECRET, authorizationParams: { scope: 'openid' }, clockTolerance: 60 });
  await app.middleware.ready();
});

afterEach(() => {
  jest.useRealTimers();
});

afterAll(async () => {
  createDebug.log = originalLog;
  createDebug.disable();
  await app?.close();
  await op?.stop();
});

/** Signs in up to Glewlwyd's redirect to the callback, moves the app's clock, then delivers it. */
async function callbackWithSkew(skewSeconds: number): Promise<{ browser: Browser; status: number; body: string }> {
  const browser = new Browser();
  const toCallback = await signInAtGlewlwyd(browser, `${app.url}/login`, { follow: false });
  const location = toCallback.headers.get('location');
  if (toCallback.status !== 302 || !location) throw new Error(`expected Glewlwyd's redirect to the callback, got ${toCallback.status}`);
  jest.useFakeTimers({ now: Date.now() + skewSeconds * 1000, doNotFake: [...REAL_TIMERS] });
  const res = await browser.get(location);
  return { browser, status: res.status, body: res.body };
}

function expectClean(err: OidcError, browser: Browser, body: string): void {
  const secrets = [CLIENT_SECRET, APP_SECRET, GLEWLWYD_USER.password, ...browser.cookies.all().map((c) => c.value).filter((v) => v.length >= 8)];
  for (const text of [err.message, format(err), body, ...lines]) for (const secret of secrets) expect(text).not.toContain(secret);
}

test('the app\'s clock 5 minutes behind: "iat" is about 300 s in the future, beyond clockTolerance (60 s)', async () => {
  const { browser, status, body } = await callbackWithSkew(-300);
  expect(status).toBe(502);
  const err = app.errors.at(-1) as OidcError;
  expect(err.code).toBe('ERR_ID_TOKEN_INVALID');
  expect(err.expose).toBe(false);
  expect(err.message).toMatch(/"iat" is (29\d|30\d) s in the future, beyond clockTolerance \(60 s\)/);
  expect(err.message).toContain('sync them (NTP) or raise clockTolerance');
  expect(errorBody({ status, body, url: '', headers: new Headers(), redirects: [] })?.code).toBe('ERR_ID_TOKEN_INVALID');
  jest.useRealTimers();
  expect((await whoAmI(browser, app.url)).authenticated).toBe(false);
  expectClean(err, browser, body);
});

test('the app\'s clock 400 s ahead: "exp" is about 280 s in the past, beyond clockTolerance', async () => {
  const { browser, status, body } = await callbackWithSkew(400);
  expect(status).toBe(502);
  const err = app.errors.at(-1) as OidcError;
  expect(err.code).toBe('ERR_ID_TOKEN_INVALID');
  expect(err.expose).toBe(false);
  expect(err.message).toMatch(/"exp" is \d+ s in the past, beyond clockTolerance \(60 s\)/);
  const late = Number(/"exp" is (\d+) s/.exec(err.message)?.[1]);
  expect(late).toBeGreaterThanOrEqual(400 - ID_TOKEN_SECONDS - 5);
  expect(late).toBeLessThanOrEqual(400 - ID_TOKEN_SECONDS + 30);
  jest.useRealTimers();
  expectClean(err, browser, body);
});
