/**
 * `DEBUG=express-oidc:*` tells the story of a login, a refresh and a logout,
 * and never prints a token, a code, a secret, a password or a cookie value.
 */
import { format } from 'node:util';
import createDebug from 'debug';
import { Browser } from '../helpers/browser.js';
import { APP_SECRET, freePort, startApp, type TestApp } from '../helpers/app.js';
import { createTestOP, TEST_CLIENT_SECRET, USERS, type TestOP } from '../helpers/op.js';

let op: TestOP;
let app: TestApp;
const lines: string[] = [];
const originalLog = createDebug.log;
let previouslyEnabled = '';

beforeAll(async () => {
  previouslyEnabled = createDebug.disable();
  createDebug.enable('express-oidc:*');
  createDebug.log = (...args: unknown[]) => {
    lines.push(format(...args));
  };
  const port = await freePort();
  op = await createTestOP({ appBaseURL: `http://127.0.0.1:${port}` });
  app = await startApp(op.issuer, port, {}, (express) => {
    // Test-only peek at the session's tokens, to look for them in the log.
    express.get('/tokens', (req, res) => {
      res.json({ idToken: req.oidc.idToken, accessToken: req.oidc.accessToken?.access_token, refreshToken: req.oidc.refreshToken });
    });
    express.get('/refresh', async (req, res, next) => {
      try {
        await req.oidc.accessToken?.refresh();
        res.json({ ok: true });
      } catch (err) {
        next(err);
      }
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

test('a login, a refresh and a logout, told without secrets', async () => {
  const browser = new Browser();
  const secrets = new Map<string, string>([
    ['client secret', TEST_CLIENT_SECRET],
    ['cookie secret', APP_SECRET],
    ['password', USERS.alice.password],
  ]);
  const remember = (what: string, value: unknown) => {
    if (typeof value === 'string' && value.length > 0) secrets.set(`${what} #${secrets.size}`, value);
  };
  const rememberCookies = () => {
    for (const cookie of browser.cookies.all()) remember(`cookie ${cookie.name}`, cookie.value);
  };

  // Login, started by a protected page: the transaction cookie and the code are seen on the way.
  const toOP = await browser.get(`${app.url}/profile`, { follow: false });
  expect(toOP.status).toBe(302);
  rememberCookies();
  const landed = await op.signIn(browser, `${app.url}/profile`);
  expect(landed.url).toBe(`${app.url}/profile`);
  for (const url of landed.redirects) {
    const params = new URL(url).searchParams;
    remember('code', params.get('code'));
    remember('state', params.get('state'));
  }
  rememberCookies();
  const before = JSON.parse((await browser.get(`${app.url}/tokens`)).body);
  remember('id token', before.idToken);
  remember('access token', before.accessToken);
  remember('refresh token', before.refreshToken);

  // Refresh.
  expect((await browser.get(`${app.url}/refresh`)).status).toBe(200);
  const after = JSON.parse((await browser.get(`${app.url}/tokens`)).body);
  expect(after.accessToken).not.toBe(before.accessToken);
  remember('refreshed access token', after.accessToken);
  remember('rotated refresh token', after.refreshToken);
  remember('refreshed id token', after.idToken);
  rememberCookies();

  // Logout.
  const out = await browser.get(`${app.url}/logout`);
  expect(JSON.parse(out.body).authenticated).toBe(false);

  const log = lines.join('\n');
  // The story, in order.
  const story = [
    /express-oidc:guard login required/,
    /express-oidc:login redirecting to the OP/,
    /express-oidc:callback code exchanged; ID token valid/,
    /express-oidc:session session established/,
    /express-oidc:callback login complete/,
    /express-oidc:refresh refreshing the access token/,
    /express-oidc:client refresh_token grant succeeded/,
    /express-oidc:refresh access token refreshed/,
    /express-oidc:logout logging out/,
    /express-oidc:client refresh token revoked/,
    /express-oidc:session session ended/,
  ];
  let from = 0;
  for (const step of story) {
    const at = log.slice(from).search(step);
    expect({ step: step.source, found: at >= 0 }).toEqual({ step: step.source, found: true });
    from += at + 1;
  }

  // Whole values, and the parts of JWTs (a payload or a signature alone is as bad).
  expect(secrets.size).toBeGreaterThanOrEqual(10);
  for (const [what, value] of secrets) {
    const pieces = [value, ...value.split('.').filter((piece) => piece.length >= 16)];
    for (const piece of pieces) expect({ what, leaked: log.includes(piece) }).toEqual({ what, leaked: false });
  }
});
