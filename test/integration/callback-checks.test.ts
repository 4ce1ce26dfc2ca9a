/**
 * Every check of /callback fails in its own test, and the user ends up not signed in: the state,
 * the response's `iss`, each ID token check (tampered at the real OP's token endpoint), the
 * transaction's lifetime and single use, and the OP's own error response.
 */
import { sign } from 'cookie-signature';
import { Browser } from '../helpers/browser.js';
import { APP_SECRET, freePort, startApp, type TestApp } from '../helpers/app.js';
import { authorizeUntilCallback, deliver, errorBody, paramsOf, whoAmI, type CallbackDelivery } from '../helpers/flow.js';
import { createTestOP, USERS, type TestOP } from '../helpers/op.js';

let op: TestOP;
let app: TestApp;

beforeAll(async () => {
  const port = await freePort();
  op = await createTestOP({ appBaseURL: `http://127.0.0.1:${port}` });
  app = await startApp(op.issuer, port, {}, (express) => {
    // Login with extra authorization parameters, given as JSON in ?params=
    express.get('/login-with', (req, res) => {
      const params = JSON.parse(String(req.query.params ?? '{}')) as Record<string, unknown>;
      return res.oidc.login({ returnTo: '/profile', authorizationParams: params });
    });
  });
});
afterAll(async () => {
  await app?.close();
  await op?.stop();
});
afterEach(() => op.tamperIdToken(null));

const now = () => Math.floor(Date.now() / 1000);

/** Delivers `delivery` and checks that it failed with `status` and `code`, leaving the browser anonymous. */
async function expectRejected(browser: Browser, delivery: CallbackDelivery, status: number, code: string, target?: URL) {
  const res = await deliver(browser, delivery, target);
  expect({ status: res.status, code: errorBody(res)?.code }).toEqual({ status, code });
  expect(browser.cookies.get('appSession')).toBeUndefined();
  expect((await whoAmI(browser, app.url)).authenticated).toBe(false);
  return res;
}

async function loginUntilCallback(browser = new Browser(), start = `${app.url}/login`) {
  return { browser, delivery: await authorizeUntilCallback(browser, start) };
}

test('an untouched callback signs the user in (the baseline the other tests change one thing of)', async () => {
  const { browser, delivery } = await loginUntilCallback();
  const res = await deliver(browser, delivery);
  expect(res.url).toBe(`${app.url}/`);
  expect((await whoAmI(browser, app.url)).user?.sub).toBe(USERS.alice.sub);
});

describe('authorization response', () => {
  test('a tampered state is refused (ERR_STATE_MISMATCH)', async () => {
    const { browser, delivery } = await loginUntilCallback();
    paramsOf(delivery).set('state', 'A'.repeat(43));
    await expectRejected(browser, delivery, 400, 'ERR_STATE_MISMATCH');
  });

  test('a missing state is refused', async () => {
    const { browser, delivery } = await loginUntilCallback();
    paramsOf(delivery).delete('state');
    await expectRejected(browser, delivery, 400, 'ERR_CALLBACK_INVALID');
  });

  test('an iss response parameter naming another issuer is refused (ERR_ISSUER_MISMATCH)', async () => {
    const { browser, delivery } = await loginUntilCallback();
    paramsOf(delivery).set('iss', 'https://evil.example.com');
    await expectRejected(browser, delivery, 400, 'ERR_ISSUER_MISMATCH');
  });

  test('a missing iss is refused: the OP advertises that it always sends one', async () => {
    const { browser, delivery } = await loginUntilCallback();
    paramsOf(delivery).delete('iss');
    await expectRejected(browser, delivery, 400, 'ERR_ISSUER_MISMATCH');
  });

  test('a changed code is refused by the OP (invalid_grant)', async () => {
    const { browser, delivery } = await loginUntilCallback();
    paramsOf(delivery).set('code', 'not-the-code');
    const res = await expectRejected(browser, delivery, 400, 'ERR_OP_ERROR');
    expect(errorBody(res)?.error).toBe('invalid_grant');
  });

  test('an OP error response (access_denied) is a 400 ERR_OP_ERROR carrying the OP error', async () => {
    const browser = new Browser();
    const delivery = await authorizeUntilCallback(browser, `${app.url}/login`, '/callback', { consent: false });
    expect(paramsOf(delivery).get('error')).toBe('access_denied');
    const res = await expectRejected(browser, delivery, 400, 'ERR_OP_ERROR');
    expect(errorBody(res)?.error).toBe('access_denied');
  });
});

describe('ID token', () => {
  const rejects = async (tamper: Parameters<TestOP['tamperIdToken']>[0], start?: string, status = 400) => {
    const { browser, delivery } = await loginUntilCallback(new Browser(), start);
    op.tamperIdToken(tamper);
    return expectRejected(browser, delivery, status, 'ERR_ID_TOKEN_INVALID');
  };

  test('another nonce', () => rejects((claims) => ({ claims: { ...claims, nonce: 'another-nonce' } })));
  test('no nonce', () => rejects((claims) => ({ claims: { ...claims, nonce: undefined } })));
  test('another iss', () => rejects((claims) => ({ claims: { ...claims, iss: 'https://evil.example.com' } })));
  test('another aud', () => rejects((claims) => ({ claims: { ...claims, aud: 'another-client' } })));
  test('several audiences, azp another client', () =>
    rejects((claims) => ({ claims: { ...claims, aud: ['test-client', 'another-client'], azp: 'another-client' } })));
  test('several audiences, no azp', () => rejects((claims) => ({ claims: { ...claims, aud: ['test-client', 'another-client'] } })));
  test('no sub', () => rejects((claims) => ({ claims: { ...claims, sub: undefined } })));
  test('signed with a foreign key (same kid)', () => rejects(() => ({ signWith: 'foreign' })));
  test('a garbage signature', () => rejects(() => ({ signWith: 'none' })));
  test('alg none', () => rejects((_claims, header) => ({ header: { ...header, alg: 'none' }, signWith: 'none' })));
  test('another alg (ES256, signed with the OP\'s own ES256 key) than idTokenSigningAlg', async () => {
    const es256 = op.signingKeys().publicJwks.find((k) => k.alg === 'ES256');
    const res = await rejects((_claims, header) => ({ header: { ...header, alg: 'ES256', kid: es256?.kid } }));
    expect(errorBody(res)?.message).toMatch(/"alg"/); // the failed check is named
  });
  // Time claims off by more than clockTolerance read as clock skew: the deployment's problem, a 502.
  test('expired', () => rejects((claims) => ({ claims: { ...claims, iat: now() - 7200, exp: now() - 3600 } }), undefined, 502));
  test('iat in the future beyond clockTolerance', () =>
    rejects((claims) => ({ claims: { ...claims, iat: now() + 600, exp: now() + 3600 } }), undefined, 502));

  test('iat in the future within clockTolerance is accepted', async () => {
    const { browser, delivery } = await loginUntilCallback();
    op.tamperIdToken((claims) => ({ claims: { ...claims, iat: now() + 20 } }));
    const res = await deliver(browser, delivery);
    expect(res.status).toBe(200);
    expect((await whoAmI(browser, app.url)).authenticated).toBe(true);
  });

  test('auth_time older than the max_age asked at login', async () => {
    const start = `${app.url}/login-with?params=${encodeURIComponent(JSON.stringify({ max_age: 60 }))}`;
    await rejects((claims) => ({ claims: { ...claims, auth_time: now() - 3600 } }), start);
  });

  test('no auth_time when max_age was asked', async () => {
    const start = `${app.url}/login-with?params=${encodeURIComponent(JSON.stringify({ max_age: 60 }))}`;
    await rejects((claims) => ({ claims: { ...claims, auth_time: undefined } }), start);
  });

  test('org_id other than the organization asked for', async () => {
    const start = `${app.url}/login-with?params=${encodeURIComponent(JSON.stringify({ organization: 'org_abc123' }))}`;
    await rejects((claims) => ({ claims: { ...claims, org_id: 'org_other' } }), start);
  });

  test('org_name other than the organization asked for', async () => {
    const start = `${app.url}/login-with?params=${encodeURIComponent(JSON.stringify({ organization: 'acme' }))}`;
    await rejects((claims) => ({ claims: { ...claims, org_name: 'other-corp' } }), start);
  });

  test('no org claim although an organization was asked for', async () => {
    const start = `${app.url}/login-with?params=${encodeURIComponent(JSON.stringify({ organization: 'org_abc123' }))}`;
    await rejects((claims) => ({ claims: { ...claims, org_id: undefined } }), start);
  });

  test('the organization asked for is accepted when the OP confirms it', async () => {
    const browser = new Browser();
    const start = `${app.url}/login-with?params=${encodeURIComponent(JSON.stringify({ organization: 'org_abc123', max_age: 600 }))}`;
    const res = await op.signIn(browser, start);
    expect(res.url).toBe(`${app.url}/profile`);
    expect(JSON.parse(res.body).user.org_id).toBe('org_abc123');
  });

  test('an unknown kid refetches the JWKS exactly once, then fails', async () => {
    // Warm the key cache with a login, so that only the refetch is counted.
    await op.signIn(new Browser(), `${app.url}/login`);
    const { browser, delivery } = await loginUntilCallback();
    op.tamperIdToken((_claims, header) => ({ header: { ...header, kid: 'unknown-kid' } }));
    const before = op.counts.jwks;
    await expectRejected(browser, delivery, 400, 'ERR_ID_TOKEN_INVALID');
    expect(op.counts.jwks - before).toBe(1);
  });

  test('a key rotation at the OP is picked up with one JWKS refetch', async () => {
    await op.signIn(new Browser(), `${app.url}/login`);
    await op.rotateKeys();
    const before = op.counts.jwks;
    const browser = new Browser();
    const res = await op.signIn(browser, `${app.url}/login?returnTo=/profile`);
    expect(res.url).toBe(`${app.url}/profile`);
    expect(op.counts.jwks - before).toBe(1);
  });
});

describe('transaction', () => {
  test('a replayed callback in the same browser, signed out since, is refused (the transaction was consumed)', async () => {
    const { browser, delivery } = await loginUntilCallback();
    expect((await deliver(browser, delivery)).status).toBe(200);
    // Signed in, a replay is the Back button and goes on to the login's returnTo (error-messages.test.ts).
    await browser.get(`${app.url}/logout`);
    const replay = await deliver(browser, delivery);
    expect({ status: replay.status, code: errorBody(replay)?.code }).toEqual({ status: 400, code: 'ERR_TRANSACTION_MISSING' });
  });

  test('a replayed callback with a copy of the transaction cookie is refused (the code was used)', async () => {
    const { browser, delivery } = await loginUntilCallback();
    const attacker = new Browser();
    for (const cookie of browser.cookies.all('127.0.0.1')) {
      if (cookie.name.startsWith('auth_verification.')) attacker.cookies.set(cookie);
    }
    expect((await deliver(browser, delivery)).status).toBe(200);
    const res = await expectRejected(attacker, delivery, 400, 'ERR_OP_ERROR');
    expect(errorBody(res)?.error).toBe('invalid_grant');
  });

  test('a callback in a browser that started no login is refused', async () => {
    const { delivery } = await loginUntilCallback();
    await expectRejected(new Browser(), delivery, 400, 'ERR_TRANSACTION_MISSING');
  });

  test('an expired transaction is refused', async () => {
    const { browser, delivery } = await loginUntilCallback();
    // Age the transaction: the test holds the app's secret, so it can re-sign what /login wrote.
    const cookie = browser.cookies.all('127.0.0.1').find((c) => c.name.startsWith('auth_verification.'));
    if (!cookie) throw new Error('no transaction cookie');
    const payload = cookie.value.slice(0, cookie.value.lastIndexOf('.'));
    const tx = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { createdAt: number };
    tx.createdAt -= 601;
    browser.cookies.set({ ...cookie, value: sign(Buffer.from(JSON.stringify(tx)).toString('base64url'), APP_SECRET) });
    const res = await expectRejected(browser, delivery, 400, 'ERR_TRANSACTION_INVALID');
    expect(errorBody(res)?.message).toMatch(/expired/);
  });
});
