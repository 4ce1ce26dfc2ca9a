/**
 * client_secret_basic with `-`, `.` and `_` in the client ID and secret (UUID-style IDs), against
 * Glewlwyd, which compares the Basic credentials without percent-decoding them. RFC 6749 §2.3.1
 * encodes them with application/x-www-form-urlencoded, which leaves `-._*` as they are.
 */
import { AuthClient } from '../../src/index.js';
import { Browser } from '../helpers/browser.js';
import { freePort, startApp, type TestApp } from '../helpers/app.js';
import { whoAmI } from '../helpers/flow.js';
import { GLEWLWYD_USER, signInAtGlewlwyd, startGlewlwyd, type GlewlwydServer } from './glewlwyd.js';

const CLIENT_ID = '5f0c3e2a-interop.basic_client';
const CLIENT_SECRET = 'secret-with.dots_and-dashes*0123456789';

let op: GlewlwydServer;
let issuer: string;
let app: TestApp;

beforeAll(async () => {
  op = await startGlewlwyd();
  issuer = await op.addOidc('oidc');
  const port = await freePort();
  await op.addClient({
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    redirect_uri: [`http://127.0.0.1:${port}/callback`],
    token_endpoint_auth_method: ['client_secret_basic'],
  });
  app = await startApp(issuer, port, { clientID: CLIENT_ID, clientSecret: CLIENT_SECRET, clientAuthMethod: 'client_secret_basic', authorizationParams: { scope: 'openid' } });
});

afterAll(async () => {
  await app?.close();
  await op?.stop();
});

test('a login completes with client_secret_basic and `-._*` in the client ID and secret', async () => {
  const browser = new Browser();
  const res = await signInAtGlewlwyd(browser, `${app.url}/login`);
  expect(res.status).toBe(200);
  expect((await whoAmI(browser, app.url)).authenticated).toBe(true);
});

test('AuthClient grants authenticate with the same credentials', async () => {
  const client = new AuthClient({ issuerBaseURL: issuer, clientID: CLIENT_ID, clientSecret: CLIENT_SECRET });
  const tokens = await client.loginWithPassword({ username: GLEWLWYD_USER.username, password: GLEWLWYD_USER.password, scope: 'openid' });
  expect(tokens.accessToken).toEqual(expect.any(String));
});
