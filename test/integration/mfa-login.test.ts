/**
 * The password login route finishing an MFA login into a session, against the real test OP: bob's
 * password gets mfa_required; the mfa_token stays on the server; the browser gets a pending-login
 * handle bound to it by a cookie; a second POST with his authenticator app's code signs him in.
 * Refused: wrong codes past the bound, an expired, replayed or cross-browser handle.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, jest, test } from '@jest/globals';

import { MfaPendingError, OidcError, requiresAuth } from '../../src/index.js';
import type { BrowserResponse } from '../helpers/browser.js';
import { Browser } from '../helpers/browser.js';
import { freePort, startApp, type TestApp } from '../helpers/app.js';
import { errorBody } from '../helpers/flow.js';
import { USERS, createTestOP, type TestOP } from '../helpers/op.js';
import { MFA_OTP_GRANT } from '../helpers/op/mfa.js';
import { totp } from '../helpers/totp.js';

const ROUTE = '/login/password';
const SECRET = USERS.bob.otpSecret;

let op: TestOP;
let app: TestApp;

beforeAll(async () => {
  const port = await freePort();
  op = await createTestOP({ appBaseURL: `http://127.0.0.1:${port}` });
  app = await startApp(op.issuer, port, { passwordLogin: true }, (express) => {
    express.get('/me', (req, res) => res.json({ sub: req.oidc.user?.sub ?? null, amr: req.oidc.idTokenClaims?.amr ?? null }));
    express.get('/multi-factor', requiresAuth({ acrValues: 'http://schemas.openid.net/pape/policies/2007/06/multi-factor' }), (_req, res) => res.json({ ok: true }));
  });
});
afterAll(async () => {
  await app?.close();
  await op?.stop();
});
beforeEach(() => {
  op.resetCounts();
  app.errors.length = 0;
});
afterEach(() => {
  jest.restoreAllMocks();
});

const post = (browser: Browser, form: Record<string, string>) => browser.post(`${app.url}${ROUTE}`, form, { follow: false });
const mfaGrants = () => op.tokenRequests.filter((r) => r.grantType === MFA_OTP_GRANT);
const wrong = () => (totp(SECRET) === '000000' ? '111111' : '000000');

/** Bob's password: the pending login's handle (from the error the app's handler got). */
async function startPending(browser: Browser, returnTo = '/me'): Promise<{ handle: string; res: BrowserResponse }> {
  const res = await post(browser, { username: USERS.bob.username, password: USERS.bob.password, returnTo });
  expect({ status: res.status, code: errorBody(res)?.code }).toEqual({ status: 401, code: 'ERR_MFA_REQUIRED' });
  const err = app.errors.at(-1) as MfaPendingError;
  expect(err).toBeInstanceOf(MfaPendingError);
  return { handle: err.pendingLogin, res };
}

async function me(browser: Browser): Promise<{ sub: string | null; amr: string[] | null }> {
  return JSON.parse((await browser.get(`${app.url}/me`, { headers: { accept: 'application/json' } })).body);
}

describe('a pending MFA login', () => {
  test('completes into a new session with the right code; the mfa_token never leaves the server', async () => {
    const browser = new Browser();
    // Signed in as alice first: the MFA login must replace that session, under a new id.
    await post(browser, { username: USERS.alice.username, password: USERS.alice.password });
    const aliceSession = browser.cookies.get('appSession')?.value;
    expect(aliceSession).toBeDefined();

    const { handle, res } = await startPending(browser);
    const mfaToken = op.mfa.issued.at(-1) as string;
    expect(mfaToken.length).toBeGreaterThan(20);
    // Not in the body, not in any header (Set-Cookie included), not in the error the app renders.
    expect(res.body).not.toContain(mfaToken);
    res.headers.forEach((value) => expect(value).not.toContain(mfaToken));
    expect(JSON.stringify(app.errors.at(-1))).not.toContain(mfaToken);
    expect(browser.cookies.all().some((c) => c.value.includes(mfaToken))).toBe(false);

    const done = await post(browser, { pendingLogin: handle, otp: totp(SECRET) });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe(`${app.url}/me`);
    expect(done.body).not.toContain(mfaToken);
    expect(await me(browser)).toEqual({ sub: USERS.bob.sub, amr: ['pwd', 'otp', 'mfa'] });
    const bobSession = browser.cookies.get('appSession')?.value;
    expect(bobSession).not.toBe(aliceSession);
    expect(browser.cookies.get('auth_verification_mfa')).toBeUndefined();
    // The OP got the code with the user's IP, for its brute-force protection.
    expect(mfaGrants()).toHaveLength(1);
    expect(mfaGrants()[0]?.headers['auth0-forwarded-for']).toBe('127.0.0.1');
    // The old session is gone.
    const stale = new Browser();
    stale.cookies.set({ name: 'appSession', value: aliceSession as string });
    expect((await me(stale)).sub).toBeNull();
  });

  test('wrong codes are bounded: 4 retries, the 5th ends the pending login, and then even the right code is refused', async () => {
    const browser = new Browser();
    const { handle } = await startPending(browser);
    for (let left = 4; left >= 1; left -= 1) {
      const res = await post(browser, { pendingLogin: handle, otp: wrong() });
      expect({ status: res.status, code: errorBody(res)?.code }).toEqual({ status: 401, code: 'ERR_MFA_REQUIRED' });
      const err = app.errors.at(-1) as MfaPendingError;
      expect([err.retry, err.attemptsLeft, err.pendingLogin]).toEqual([true, left, handle]);
    }
    const last = await post(browser, { pendingLogin: handle, otp: wrong() });
    expect({ status: last.status, code: errorBody(last)?.code }).toEqual({ status: 401, code: 'ERR_PENDING_LOGIN_INVALID' });
    const after = await post(browser, { pendingLogin: handle, otp: totp(SECRET) });
    expect(errorBody(after)?.code).toBe('ERR_PENDING_LOGIN_INVALID');
    expect(mfaGrants()).toHaveLength(5);
    expect((await me(browser)).sub).toBeNull();
  });

  test('a replayed handle is refused, and the OP is not asked', async () => {
    const browser = new Browser();
    const { handle } = await startPending(browser);
    // A copy of the browser's cookies as they were before the code was sent (binding cookie included).
    const replay = new Browser();
    for (const cookie of browser.cookies.all()) replay.cookies.set(cookie);
    expect(replay.cookies.get('auth_verification_mfa')).toBeDefined();
    expect((await post(browser, { pendingLogin: handle, otp: totp(SECRET) })).status).toBe(303);
    for (const again of [browser, replay]) {
      const res = await post(again, { pendingLogin: handle, otp: totp(SECRET) });
      expect({ status: res.status, code: errorBody(res)?.code }).toEqual({ status: 401, code: 'ERR_PENDING_LOGIN_INVALID' });
    }
    expect(mfaGrants()).toHaveLength(1);
    expect((await me(replay)).sub).toBeNull();
  });

  test("a handle from another browser is refused, and does not end the owner's pending login", async () => {
    const owner = new Browser();
    const { handle } = await startPending(owner);
    const thief = new Browser();
    // The thief's own pending login gives it a binding cookie of its own: still not the owner's.
    await startPending(thief);
    const stolen = await post(thief, { pendingLogin: handle, otp: totp(SECRET) });
    expect({ status: stolen.status, code: errorBody(stolen)?.code }).toEqual({ status: 401, code: 'ERR_PENDING_LOGIN_INVALID' });
    const bare = await post(new Browser(), { pendingLogin: handle, otp: totp(SECRET) });
    expect(errorBody(bare)?.code).toBe('ERR_PENDING_LOGIN_INVALID');
    expect(mfaGrants()).toHaveLength(0);
    expect((await me(thief)).sub).toBeNull();
    // The owner can still finish.
    expect((await post(owner, { pendingLogin: handle, otp: totp(SECRET) })).status).toBe(303);
    expect((await me(owner)).sub).toBe(USERS.bob.sub);
  });

  test('an expired pending login is refused without asking the OP, and stays refused', async () => {
    const browser = new Browser();
    const { handle } = await startPending(browser);
    const realNow = Date.now.bind(Date);
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + 301_000);
    const late = await post(browser, { pendingLogin: handle, otp: totp(SECRET) });
    expect({ status: late.status, code: errorBody(late)?.code }).toEqual({ status: 401, code: 'ERR_PENDING_LOGIN_INVALID' });
    clock.mockRestore();
    const again = await post(browser, { pendingLogin: handle, otp: totp(SECRET) });
    expect(errorBody(again)?.code).toBe('ERR_PENDING_LOGIN_INVALID');
    expect(mfaGrants()).toHaveLength(0);
  });

  test("the OP's end of the mfa_token ends the pending login (its code kept in cause for the log)", async () => {
    const browser = new Browser();
    const { handle } = await startPending(browser);
    op.mfa.expireAll();
    const res = await post(browser, { pendingLogin: handle, otp: totp(SECRET) });
    expect(errorBody(res)?.code).toBe('ERR_PENDING_LOGIN_INVALID');
    expect(((app.errors.at(-1) as OidcError).cause as OidcError).error).toBe('expired_token');
    expect(errorBody(res)?.message).not.toContain('expired_token');
  });

  test('two requests with the same handle at once: at most one reaches the OP', async () => {
    const browser = new Browser();
    const { handle } = await startPending(browser);
    const results = await Promise.all([0, 1, 2].map(() => post(browser, { pendingLogin: handle, otp: totp(SECRET) })));
    expect(results.filter((r) => r.status === 303)).toHaveLength(1);
    expect(mfaGrants()).toHaveLength(1);
  });

  test('bad requests: no code, a malformed handle', async () => {
    const browser = new Browser();
    const { handle } = await startPending(browser);
    const noCode = await post(browser, { pendingLogin: handle });
    expect({ status: noCode.status, code: errorBody(noCode)?.code }).toEqual({ status: 400, code: 'ERR_BAD_REQUEST' });
    const malformed = await post(browser, { pendingLogin: '<script>', otp: '123456' });
    expect(errorBody(malformed)?.code).toBe('ERR_PENDING_LOGIN_INVALID');
    expect(malformed.body).not.toContain('<script>');
    expect(mfaGrants()).toHaveLength(0);
    // The pending login survived both.
    expect((await post(browser, { pendingLogin: handle, otp: totp(SECRET) })).status).toBe(303);
  });
});

test('the handle is readable by the error handler but not printed by JSON or util.inspect', async () => {
  const { inspect } = await import('node:util');
  const browser = new Browser();
  const { handle } = await startPending(browser);
  const err = app.errors.at(-1) as MfaPendingError;
  expect(err.pendingLogin).toBe(handle);
  expect(JSON.stringify(err)).not.toContain(handle);
  expect(inspect(err)).not.toContain(handle);
  expect(String(err)).not.toContain(handle);
});

describe('a code sent out of band (SMS)', () => {
  test('challenge=oob sends a code; bindingCode with it completes the login; the oob_code stays on the server', async () => {
    const browser = new Browser();
    const { handle } = await startPending(browser);
    const mfaToken = op.mfa.issued.at(-1) as string;
    const early = await post(browser, { pendingLogin: handle, bindingCode: '123456' });
    expect({ status: early.status, code: errorBody(early)?.code }).toEqual({ status: 400, code: 'ERR_BAD_REQUEST' });

    const sent = await post(browser, { pendingLogin: handle, challenge: 'oob' });
    expect({ status: sent.status, code: errorBody(sent)?.code }).toEqual({ status: 401, code: 'ERR_MFA_REQUIRED' });
    expect((app.errors.at(-1) as MfaPendingError).codeType).toBe('oob');
    const [oobCode, challenge] = [...op.mfa.oob.entries()].find(([, c]) => c.mfaToken === mfaToken) ?? [];
    expect(challenge).toBeDefined();
    expect(sent.body).not.toContain(oobCode as string);
    expect(op.mfa.challenges.at(-1)?.headers['auth0-forwarded-for']).toBe('127.0.0.1');

    const wrongCode = challenge?.bindingCode === '000000' ? '111111' : '000000';
    const retry = await post(browser, { pendingLogin: handle, bindingCode: wrongCode });
    expect(errorBody(retry)?.code).toBe('ERR_MFA_REQUIRED');
    expect([(app.errors.at(-1) as MfaPendingError).retry, (app.errors.at(-1) as MfaPendingError).codeType]).toEqual([true, 'oob']);

    const done = await post(browser, { pendingLogin: handle, bindingCode: challenge?.bindingCode as string });
    expect(done.status).toBe(303);
    expect(await me(browser)).toEqual({ sub: USERS.bob.sub, amr: ['pwd', 'oob', 'mfa'] });
  });

  test('a form with two answers, or another challenge type, is a 400', async () => {
    const browser = new Browser();
    const { handle } = await startPending(browser);
    const challengesBefore = op.mfa.challenges.length;
    for (const form of [{ otp: '123456', bindingCode: '123456' }, { challenge: 'push' }] as Array<Record<string, string>>) {
      const res = await post(browser, { pendingLogin: handle, ...form });
      expect({ status: res.status, code: errorBody(res)?.code }).toEqual({ status: 400, code: 'ERR_BAD_REQUEST' });
    }
    expect(op.mfa.challenges).toHaveLength(challengesBefore);
    expect(mfaGrants()).toHaveLength(0);
  });
});

test("a session from the MFA login satisfies a step-up route asking for the PAPE multi-factor policy (amr has mfa); a password-only one does not", async () => {
  const mfa = new Browser();
  const { handle } = await startPending(mfa);
  await post(mfa, { pendingLogin: handle, otp: totp(SECRET) });
  expect((await mfa.get(`${app.url}/multi-factor`, { headers: { accept: 'application/json' } })).status).toBe(200);

  const passwordOnly = new Browser();
  await post(passwordOnly, { username: USERS.alice.username, password: USERS.alice.password });
  const res = await passwordOnly.get(`${app.url}/multi-factor`, { headers: { accept: 'application/json' } });
  expect({ status: res.status, code: errorBody(res)?.code }).toEqual({ status: 401, code: 'ERR_STEP_UP_REQUIRED' });
});
