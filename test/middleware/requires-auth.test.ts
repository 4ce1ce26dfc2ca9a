/**
 * requiresAuth()'s argument, against the real OP: the function form of express-openid-connect
 * guards the route with the function's answer, and anything requiresAuth() does not understand
 * throws when the route is declared.
 */
import type { Request } from 'express';
import { Browser } from '../helpers/browser.js';
import { startApp, type TestApp } from '../helpers/app.js';
import { errorBody, freePorts } from '../helpers/flow.js';
import { createTestOP, USERS, type TestOP } from '../helpers/op.js';
import { OidcError, requiresAuth } from '../../src/index.js';

let op: TestOP;
let app: TestApp;
const JSON_ACCEPT = { accept: 'application/json' };
const seen: string[] = [];

beforeAll(async () => {
  const [port = 0] = await freePorts(1);
  op = await createTestOP({ appBaseURL: `http://127.0.0.1:${port}` });
  app = await startApp(op.issuer, port, {}, (express) => {
    const ok = (req: Request, res: { json: (v: unknown) => void }) => res.json({ ok: true, sub: req.oidc.user?.sub ?? null });
    // Login is required only for ?private=1, and only until signed in (the incumbent's documented use).
    express.get(
      '/reports',
      requiresAuth((req) => {
        seen.push(req.path);
        return req.query.private === '1' && !req.oidc.isAuthenticated();
      }),
      ok,
    );
    // Alice may not use this route even when signed in.
    express.get('/not-alice', requiresAuth((req) => req.oidc.user?.sub === USERS.alice.sub || !req.oidc.isAuthenticated()), ok);
    express.get('/async', requiresAuth((async () => false) as unknown as (req: Request) => boolean), ok);
  });
});
afterAll(async () => {
  await app?.close();
  await op?.stop();
});

describe('requiresAuth(fn)', () => {
  test('the function decides: false lets an anonymous request through, true sends it to login', async () => {
    const open = await new Browser().get(`${app.url}/reports`, { headers: JSON_ACCEPT });
    expect([open.status, JSON.parse(open.body)]).toEqual([200, { ok: true, sub: null }]);
    expect(seen.at(-1)).toBe('/reports');

    const api = await new Browser().get(`${app.url}/reports?private=1`, { headers: JSON_ACCEPT });
    expect({ status: api.status, code: errorBody(api)?.code }).toEqual({ status: 401, code: 'ERR_NOT_AUTHENTICATED' });

    const page = await new Browser().get(`${app.url}/reports?private=1`, { follow: false });
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toMatch(new RegExp(`^${op.issuer}/auth\\?`));
  });

  test('a browser sent to login comes back to the route and passes', async () => {
    const browser = new Browser();
    const landed = await op.signIn(browser, `${app.url}/reports?private=1`);
    expect(landed.url).toBe(`${app.url}/reports?private=1`);
    expect(JSON.parse(landed.body)).toEqual({ ok: true, sub: USERS.alice.sub });
  });

  test('true for a signed-in user is a 403, not a login loop', async () => {
    const browser = new Browser();
    await op.signIn(browser, `${app.url}/login`);
    const res = await browser.get(`${app.url}/not-alice`, { follow: false });
    expect({ status: res.status, code: errorBody(res)?.code }).toEqual({ status: 403, code: 'ERR_FORBIDDEN_CLAIM' });
  });

  test('a function that does not answer true or false (an async one) fails closed with a 500', async () => {
    const res = await new Browser().get(`${app.url}/async`, { headers: JSON_ACCEPT });
    expect({ status: res.status, code: errorBody(res)?.code }).toEqual({ status: 500, code: 'ERR_CONFIG_INVALID' });
  });
});

describe('requiresAuth() refuses what it does not understand, at start-up', () => {
  const refused: Array<[string, () => unknown, RegExp]> = [
    ['an unknown option', () => requiresAuth({ errorOnRequiredAut: true } as never), /unknown option "errorOnRequiredAut"/],
    ['a wrong errorOnRequiredAuth', () => requiresAuth({ errorOnRequiredAuth: 'yes' } as never), /"errorOnRequiredAuth" must be true or false/],
    ['a wrong acrValues', () => requiresAuth({ acrValues: 5 } as never), /"acrValues" must be/],
    ['an empty acrValues', () => requiresAuth({ acrValues: [] }), /"acrValues" must be/],
    ['an acr value with a quote', () => requiresAuth({ acrValues: ['a"b'] }), /"acrValues" must be/],
    ['a negative maxAge', () => requiresAuth({ maxAge: -1 }), /"maxAge" must be a whole number/],
    ['a fractional maxAge', () => requiresAuth({ maxAge: 1.5 }), /"maxAge" must be a whole number/],
    ['a string', () => requiresAuth('admin' as never), /must be a function/],
    ['null', () => requiresAuth(null as never), /must be a function/],
    ['an array', () => requiresAuth([] as never), /must be a function/],
    ['two arguments', () => (requiresAuth as (...a: unknown[]) => unknown)({}, {}), /one argument/],
  ];
  test.each(refused)('%s', (_name, declare, message) => {
    let thrown: unknown;
    try {
      declare();
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(OidcError);
    expect((thrown as OidcError).code).toBe('ERR_CONFIG_INVALID');
    expect((thrown as OidcError).message).toMatch(message);
  });

  test('what it does understand is accepted', () => {
    expect(typeof requiresAuth()).toBe('function');
    expect(typeof requiresAuth({})).toBe('function');
    expect(typeof requiresAuth({ errorOnRequiredAuth: true, acrValues: 'a b', maxAge: 0 })).toBe('function');
    expect(typeof requiresAuth(() => true)).toBe('function');
  });
});
