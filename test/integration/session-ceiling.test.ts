/**
 * The IdP's session ceiling (IPSIE SL1 `session_expiry` in the ID token), against the real test
 * OP, which puts the claim in its ID tokens: the session ends then, however active it is and
 * whatever its refresh token; a refresh past it sends no grant and throws SessionExpiredError.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, jest, test } from '@jest/globals';

import { SessionExpiredError } from '../../src/index.js';
import { Browser } from '../helpers/browser.js';
import { freePort, startApp, type TestApp } from '../helpers/app.js';
import { errorBody } from '../helpers/flow.js';
import { USERS, createTestOP, type TestOP } from '../helpers/op.js';

let op: TestOP;
let app: TestApp;
/** What the OP puts in session_expiry; undefined: no claim. */
let ceiling: (() => number | undefined) | undefined;
/** Moved forward by the tests, for this process (the app and the OP alike). */
let offsetSeconds = 0;
const JSON_ACCEPT = { accept: 'application/json' };

const now = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  const port = await freePort();
  op = await createTestOP({ appBaseURL: `http://127.0.0.1:${port}`, sessionExpiry: () => ceiling?.() });
  app = await startApp(op.issuer, port, { passwordLogin: true }, (express) => {
    // A request that loads its session before the ceiling and refreshes after it.
    express.get('/refresh-after-ceiling', async (req, res, next) => {
      try {
        offsetSeconds += 60;
        await req.oidc.accessToken?.refresh();
        res.json({ refreshed: true });
      } catch (err) {
        next(err);
      }
    });
  });
  const realNow = Date.now.bind(Date);
  jest.spyOn(Date, 'now').mockImplementation(() => realNow() + offsetSeconds * 1000);
});
afterAll(async () => {
  jest.restoreAllMocks();
  await app?.close();
  await op?.stop();
});
beforeEach(() => {
  op.resetCounts();
  app.errors.length = 0;
  ceiling = undefined;
});
afterEach(() => {
  offsetSeconds = 0;
});

async function signedInWithCeiling(secondsLeft: number): Promise<{ browser: Browser; at: number }> {
  const at = now() + secondsLeft;
  ceiling = () => at;
  const browser = new Browser();
  await op.signIn(browser, `${app.url}/login`);
  expect((await browser.get(`${app.url}/profile`, { headers: JSON_ACCEPT })).status).toBe(200);
  return { browser, at };
}

describe('session_expiry', () => {
  test('ends the session at the ceiling, though it is active and has a refresh token', async () => {
    const { browser } = await signedInWithCeiling(30);
    offsetSeconds = 20;
    // Activity before the ceiling keeps it signed in (and would roll the session further).
    expect((await browser.get(`${app.url}/profile`, { headers: JSON_ACCEPT })).status).toBe(200);
    offsetSeconds = 31;
    const res = await browser.get(`${app.url}/profile`, { headers: JSON_ACCEPT });
    expect({ status: res.status, code: errorBody(res)?.code }).toEqual({ status: 401, code: 'ERR_NOT_AUTHENTICATED' });
    // Not refreshed back to life: no refresh grant was sent.
    expect(op.counts.token.refresh_token ?? 0).toBe(0);
    offsetSeconds = 0;
    expect((await browser.get(`${app.url}/profile`, { headers: JSON_ACCEPT })).status).toBe(401);
  });

  test('caps the session cookie at the ceiling', async () => {
    ceiling = () => now() + 30;
    const browser = new Browser();
    const landed = await op.signIn(browser, `${app.url}/login`);
    expect(landed.status).toBe(200);
    const cookie = browser.cookies.get('appSession');
    expect(cookie?.expires).toBeDefined();
    expect((cookie?.expires as number) - Date.now()).toBeLessThanOrEqual(31_000);
  });

  test('a refresh past it sends no grant and throws SessionExpiredError (ERR_SESSION_EXPIRED, 401)', async () => {
    const { browser } = await signedInWithCeiling(30);
    const res = await browser.get(`${app.url}/refresh-after-ceiling`, { headers: JSON_ACCEPT });
    expect({ status: res.status, code: errorBody(res)?.code }).toEqual({ status: 401, code: 'ERR_SESSION_EXPIRED' });
    expect(app.errors.at(-1)).toBeInstanceOf(SessionExpiredError);
    expect(op.counts.token.refresh_token ?? 0).toBe(0);
  });

  test('without the claim, the same refresh goes to the OP', async () => {
    const browser = new Browser();
    await op.signIn(browser, `${app.url}/login`);
    const res = await browser.get(`${app.url}/refresh-after-ceiling`, { headers: JSON_ACCEPT });
    expect(res.status).toBe(200);
    expect(op.counts.token.refresh_token).toBe(1);
  });

  test('applies to password logins too', async () => {
    const at = now() + 30;
    ceiling = () => at;
    const browser = new Browser();
    const res = await browser.post(`${app.url}/login/password`, { username: USERS.alice.username, password: USERS.alice.password }, { follow: false });
    expect(res.status).toBe(303);
    expect((await browser.get(`${app.url}/profile`, { headers: JSON_ACCEPT })).status).toBe(200);
    offsetSeconds = 31;
    expect((await browser.get(`${app.url}/profile`, { headers: JSON_ACCEPT })).status).toBe(401);
  });

  test('a ceiling already past, or a malformed one (milliseconds), refuses the login', async () => {
    ceiling = () => now() - 5;
    const past = await op.signIn(new Browser(), `${app.url}/login`);
    expect({ status: past.status, code: errorBody(past)?.code }).toEqual({ status: 401, code: 'ERR_SESSION_EXPIRED' });
    ceiling = () => Date.now() + 60_000;
    const millis = new Browser();
    const res = await op.signIn(millis, `${app.url}/login`);
    expect({ status: res.status, code: errorBody(res)?.code }).toEqual({ status: 400, code: 'ERR_ID_TOKEN_INVALID' });
    expect((await millis.get(`${app.url}/profile`, { headers: JSON_ACCEPT })).status).toBe(401);
  });
});
