/**
 * express-openid-connect's canonical refresh code, with the methods taken off
 * `req.oidc.accessToken`, in an async handler without try/catch, as its
 * EXAMPLES.md writes it. Under Express 4 (npm run test:express4) a throw there
 * is an unhandled rejection, which ends a Node process: it must simply work.
 */
import { inspect } from 'node:util';
import { Browser } from '../helpers/browser.js';
import { freePort, startApp, type TestApp } from '../helpers/app.js';
import { createTestOP, type TestOP } from '../helpers/op.js';

let op: TestOP;
let app: TestApp;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  const port = await freePort();
  op = await createTestOP({ appBaseURL: `http://127.0.0.1:${port}`, accessTokenTTL: 3600, rotateRefreshTokens: true });
  app = await startApp(op.issuer, port, {}, (express) => {
    express.get('/api', async (req, res) => {
      let { token_type, access_token, isExpired, refresh } = req.oidc.accessToken!;
      if (!isExpired()) {
        ({ access_token } = await refresh({ tokenEndpointParams: { reason: 'destructured', n: 2 } }));
      }
      res.json({ token_type, access_token, expired: isExpired(), inspected: inspect(req.oidc.accessToken), json: JSON.stringify(req.oidc.accessToken) });
    });
    express.get('/bad-refresh', async (req, res, next) => {
      const { refresh } = req.oidc.accessToken!;
      await refresh({ tokenEndpointParms: {} } as never).then(() => res.json({ ok: true }), next);
    });
  });
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await app?.close();
  await op?.stop();
});

test('const { isExpired, refresh } = req.oidc.accessToken works; refresh() redeems the refresh token once', async () => {
  const browser = new Browser();
  await op.signIn(browser, `${app.url}/login`);
  const before = JSON.parse((await browser.get(`${app.url}/token`, { headers: { accept: 'application/json' } })).body) as { access_token: string };
  op.resetCounts();
  const res = await browser.get(`${app.url}/api`, { headers: { accept: 'application/json' } });
  expect(res.status).toBe(200);
  const body = JSON.parse(res.body) as { token_type: string; access_token: string; expired: boolean; inspected: string; json: string };
  expect(body).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String), expired: false });
  // logging the token object never shows its value
  expect(body.inspected).toMatch(/^AccessToken \{/);
  expect(body.inspected).not.toContain(body.access_token);
  expect(body.json).not.toContain(body.access_token);
  expect(body.access_token).not.toBe(before.access_token);
  expect(op.counts.token.refresh_token).toBe(1);
  expect(op.tokenRequests.at(-1)?.params).toMatchObject({ reason: 'destructured', n: '2' });
  // the session holds the new token
  const after = JSON.parse((await browser.get(`${app.url}/token`, { headers: { accept: 'application/json' } })).body) as { access_token: string };
  expect(after.access_token).toBe(body.access_token);
  expect(unhandled).toEqual([]);
});

test('refresh() refuses an argument it does not understand, through next(), never as a crash', async () => {
  const browser = new Browser();
  await op.signIn(browser, `${app.url}/login`);
  const res = await browser.get(`${app.url}/bad-refresh`, { headers: { accept: 'application/json' } });
  expect(res.status).toBe(500);
  expect(JSON.parse(res.body)).toMatchObject({ code: 'ERR_CONFIG_INVALID', message: expect.stringContaining('unknown option "tokenEndpointParms"') });
  expect(unhandled).toEqual([]);
});
