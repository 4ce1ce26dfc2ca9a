/**
 * Step-up authentication (RFC 9470) per route, through real logins at the real OP: oidc-provider
 * is configured with acr_values_supported, gives each login its acr and amr, and prompts a new
 * login when a request asks for a level the session lacks. Three OPs: one that honours
 * acr_values, one that ignores them, and one that answers the PAPE multi-factor policy as Auth0
 * does (amr with "mfa", no acr).
 */
import { jest } from '@jest/globals';
import type { Express } from 'express';
import { Browser } from '../helpers/browser.js';
import { startApp, type TestApp } from '../helpers/app.js';
import { errorBody, freePorts } from '../helpers/flow.js';
import { createTestOP, USERS, type TestOP } from '../helpers/op.js';
import { LOA_PASSWORD, LOA_STRONG, PAPE_MULTI_FACTOR } from '../helpers/op/step-up.js';
import { requiresAuth } from '../../src/index.js';

const JSON_ACCEPT = { accept: 'application/json' };

interface Setup {
  op: TestOP;
  app: TestApp;
  handled: string[];
}
let honour: Setup;
let ignore: Setup;
let auth0: Setup;

function routes(handled: string[]) {
  return (express: Express) => {
    const record = (name: string) => (req: { oidc: { idTokenClaims?: Record<string, unknown> } }, res: { json: (v: unknown) => void }) => {
      handled.push(name);
      res.json({ route: name, acr: req.oidc.idTokenClaims?.acr ?? null, amr: req.oidc.idTokenClaims?.amr ?? null });
    };
    express.get('/strong', requiresAuth({ acrValues: LOA_STRONG }), record('strong'));
    express.get('/mfa', requiresAuth({ acrValues: [PAPE_MULTI_FACTOR] }), record('mfa'));
    express.get('/recent', requiresAuth({ maxAge: 5 }), record('recent'));
    express.get('/api/strong', requiresAuth({ acrValues: LOA_STRONG, errorOnRequiredAuth: true }), record('api-strong'));
  };
}

async function setup(port: number, stepUp: 'honour' | 'ignore' | 'auth0'): Promise<Setup> {
  const op = await createTestOP({ appBaseURL: `http://127.0.0.1:${port}`, stepUp });
  const handled: string[] = [];
  // clockTolerance 0: maxAge is checked to the second
  const app = await startApp(op.issuer, port, { clockTolerance: 0 }, routes(handled));
  return { op, app, handled };
}

beforeAll(async () => {
  const [a = 0, b = 0, c = 0] = await freePorts(3);
  [honour, ignore, auth0] = await Promise.all([setup(a, 'honour'), setup(b, 'ignore'), setup(c, 'auth0')]);
});
afterAll(async () => {
  for (const s of [honour, ignore, auth0]) {
    await s?.app.close();
    await s?.op.stop();
  }
});

/** Moves this process's clock (the app's and the OP's) forward, as if `seconds` had passed. */
function advanceClock(seconds: number): void {
  const realNow = Date.now.bind(Date);
  jest.spyOn(Date, 'now').mockImplementation(() => realNow() + seconds * 1000);
}
afterEach(() => {
  jest.restoreAllMocks();
});

async function signedIn(s: Setup): Promise<Browser> {
  const browser = new Browser();
  await s.op.signIn(browser, `${s.app.url}/login`);
  return browser;
}

const claimsOf = async (s: Setup, browser: Browser) => {
  const res = await browser.get(`${s.app.url}/`, { headers: JSON_ACCEPT });
  return (JSON.parse(res.body) as { user: Record<string, unknown> | null }).user;
};

describe('a browser whose session lacks the assurance', () => {
  test('is sent to log in again with acr_values and comes back to the route, now with the asked acr', async () => {
    const browser = await signedIn(honour);
    const before = browser.cookies.get('appSession')?.value;
    const first = await browser.get(`${honour.app.url}/strong?x=1`, { follow: false });
    expect(first.status).toBe(302);
    const authorize = new URL(first.headers.get('location') as string);
    expect(authorize.origin).toBe(honour.op.issuer);
    expect(authorize.searchParams.get('acr_values')).toBe(LOA_STRONG);

    const landed = await honour.op.signIn(browser, `${honour.app.url}/strong?x=1`);
    expect(landed.url).toBe(`${honour.app.url}/strong?x=1`);
    expect(JSON.parse(landed.body)).toEqual({ route: 'strong', acr: LOA_STRONG, amr: ['pwd', 'otp'] });
    // A new login, a new session id.
    expect(browser.cookies.get('appSession')?.value).not.toBe(before);
  });

  test('an anonymous browser logs in once, with acr_values, and lands on the route', async () => {
    const browser = new Browser();
    const landed = await honour.op.signIn(browser, `${honour.app.url}/mfa`);
    expect(landed.url).toBe(`${honour.app.url}/mfa`);
    expect(JSON.parse(landed.body)).toEqual({ route: 'mfa', acr: PAPE_MULTI_FACTOR, amr: ['pwd', 'otp', 'mfa'] });
  });

  test('maxAge: an authentication older than maxAge sends the browser to log in again with max_age', async () => {
    const browser = await signedIn(honour);
    expect((await browser.get(`${honour.app.url}/recent`, { headers: JSON_ACCEPT })).status).toBe(200);
    advanceClock(10);
    const first = await browser.get(`${honour.app.url}/recent`, { follow: false });
    expect(first.status).toBe(302);
    expect(new URL(first.headers.get('location') as string).searchParams.get('max_age')).toBe('5');
    const before = (await claimsOf(honour, browser))?.sub;
    const landed = await honour.op.signIn(browser, `${honour.app.url}/recent`);
    expect(landed.url).toBe(`${honour.app.url}/recent`);
    expect(JSON.parse(landed.body).route).toBe('recent');
    expect((await claimsOf(honour, browser))?.sub).toBe(before);
  });
});

describe('an API client whose session lacks the assurance', () => {
  test.each([
    ['JSON', { accept: 'application/json' }],
    ['fetch()', { accept: 'text/html', 'sec-fetch-dest': 'empty' }],
    ['XHR', { accept: 'text/html', 'x-requested-with': 'XMLHttpRequest' }],
    ['no Accept', { accept: '' }],
  ])('%s gets 401 with the RFC 9470 challenge', async (_name, headers) => {
    const browser = await signedIn(honour);
    const res = await browser.get(`${honour.app.url}/strong`, { headers, follow: false });
    expect({ status: res.status, code: errorBody(res)?.code, error: errorBody(res)?.error }).toEqual({
      status: 401,
      code: 'ERR_STEP_UP_REQUIRED',
      error: 'insufficient_user_authentication',
    });
    expect(res.headers.get('www-authenticate')).toBe(
      `Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="${LOA_STRONG}"`,
    );
  });

  test('maxAge shows as max_age in the challenge; errorOnRequiredAuth answers a browser page load the same way', async () => {
    const browser = await signedIn(honour);
    advanceClock(10);
    const res = await browser.get(`${honour.app.url}/recent`, { headers: JSON_ACCEPT });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer error="insufficient_user_authentication", error_description="More recent authentication is required", max_age="5"',
    );
    const page = await browser.get(`${honour.app.url}/api/strong`, { follow: false });
    expect(page.status).toBe(401);
    expect(page.headers.get('www-authenticate')).toMatch(/^Bearer error="insufficient_user_authentication"/);
  });

  test('an anonymous API client gets the plain 401', async () => {
    const res = await new Browser().get(`${honour.app.url}/strong`, { headers: JSON_ACCEPT });
    expect({ status: res.status, code: errorBody(res)?.code }).toEqual({ status: 401, code: 'ERR_NOT_AUTHENTICATED' });
    expect(res.headers.get('www-authenticate')).toBeNull();
  });
});

describe('an OP that ignores acr_values', () => {
  test('the route is not granted: the login ends in 403 ERR_STEP_UP_FAILED, no loop, and the old session stays', async () => {
    const browser = await signedIn(ignore);
    const before = browser.cookies.get('appSession')?.value;
    const handledBefore = ignore.handled.length;
    const res = await ignore.op.signIn(browser, `${ignore.app.url}/strong`);
    expect({ status: res.status, code: errorBody(res)?.code }).toEqual({ status: 403, code: 'ERR_STEP_UP_FAILED' });
    // One round to the OP and back: /strong -> OP -> /callback, which stops.
    expect(res.redirects.filter((url) => new URL(url).pathname === '/callback')).toHaveLength(1);
    expect(new URL(res.url).pathname).toBe('/callback');
    expect(ignore.handled.length).toBe(handledBefore);
    // The session the user had is kept, at its old level.
    expect(browser.cookies.get('appSession')?.value).toBe(before);
    const claims = await claimsOf(ignore, browser);
    expect(claims?.sub).toBe(USERS.alice.sub);
    expect(claims?.acr).toBe(LOA_PASSWORD);
  });

  test('an anonymous browser is not signed in by a login without the asked acr', async () => {
    const browser = new Browser();
    const res = await ignore.op.signIn(browser, `${ignore.app.url}/mfa`);
    expect(errorBody(res)?.code).toBe('ERR_STEP_UP_FAILED');
    expect(await claimsOf(ignore, browser)).toBeNull();
  });
});

describe("Auth0's form: amr with mfa for the PAPE multi-factor policy", () => {
  test('amr containing mfa satisfies the PAPE policy without an acr claim', async () => {
    const browser = await signedIn(auth0);
    const landed = await auth0.op.signIn(browser, `${auth0.app.url}/mfa`);
    expect(landed.url).toBe(`${auth0.app.url}/mfa`);
    const body = JSON.parse(landed.body);
    expect(body).toEqual({ route: 'mfa', acr: null, amr: ['pwd', 'mfa'] });
  });

  test('but not another acr value', async () => {
    const browser = await signedIn(auth0);
    const res = await browser.get(`${auth0.app.url}/api/strong`, { headers: JSON_ACCEPT });
    expect(errorBody(res)?.code).toBe('ERR_STEP_UP_REQUIRED');
  });
});

test('the OP advertises the acr values the flows use', async () => {
  const metadata = await honour.app.middleware.client.serverMetadata();
  expect(metadata.acr_values_supported).toEqual(expect.arrayContaining([LOA_PASSWORD, LOA_STRONG, PAPE_MULTI_FACTOR]));
});
