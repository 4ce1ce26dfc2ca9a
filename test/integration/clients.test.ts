/**
 * The code exchange for each kind of client: confidential with client_secret_basic and
 * client_secret_post, and public (`none`, PKCE only), with query and form_post responses and PAR.
 */
import { Browser } from '../helpers/browser.js';
import { startApp, type TestApp } from '../helpers/app.js';
import { clientsFor, freePorts, whoAmI } from '../helpers/flow.js';
import { createTestOP, POST_CLIENT_SECRET, USERS, type TestOP } from '../helpers/op.js';

let op: TestOP;
const apps: Record<string, TestApp> = {};

const setups = {
  basic: {},
  basicFormPostPar: { pushedAuthorizationRequests: true, authorizationParams: { response_mode: 'form_post' as const, scope: 'openid profile email' } },
  post: { clientID: 'post-client', clientSecret: POST_CLIENT_SECRET, clientAuthMethod: 'client_secret_post' as const },
  public: { clientID: 'public-client', clientSecret: undefined },
  publicFormPostPar: {
    clientID: 'public-client',
    clientSecret: undefined,
    pushedAuthorizationRequests: true,
    authorizationParams: { response_mode: 'form_post' as const, scope: 'openid profile email' },
  },
};

beforeAll(async () => {
  const names = Object.keys(setups) as Array<keyof typeof setups>;
  const ports = await freePorts(names.length);
  op = await createTestOP({ appBaseURL: `http://127.0.0.1:${ports[0]}`, clients: clientsFor(ports.map((p) => `http://127.0.0.1:${p}`)) });
  for (const [i, name] of names.entries()) apps[name] = await startApp(op.issuer, ports[i] ?? 0, setups[name]);
});
afterAll(async () => {
  await Promise.all(Object.values(apps).map((a) => a.close()));
  await op?.stop();
});

async function loginAndExchange(name: keyof typeof setups) {
  const app = apps[name] as TestApp;
  op.resetCounts();
  const browser = new Browser();
  const res = await op.signIn(browser, `${app.url}/login?returnTo=/profile`);
  expect(res.url).toBe(`${app.url}/profile`);
  expect(JSON.parse(res.body).user.sub).toBe(USERS.alice.sub);
  expect((await whoAmI(browser, app.url)).authenticated).toBe(true);
  const exchanges = op.tokenRequests.filter((r) => r.grantType === 'authorization_code');
  expect(exchanges).toHaveLength(1);
  return { request: exchanges[0] as (typeof exchanges)[number], res };
}

test('confidential client, client_secret_basic: the secret goes in the Authorization header, with the PKCE verifier', async () => {
  const { request } = await loginAndExchange('basic');
  expect(String(request.headers.authorization)).toMatch(/^Basic /);
  expect(request.params.client_secret).toBeUndefined();
  expect(typeof request.params.code_verifier).toBe('string');
});

test('confidential client, client_secret_basic, form_post through PAR', async () => {
  const { request, res } = await loginAndExchange('basicFormPostPar');
  expect(res.redirects.some((u) => u.includes('request_uri='))).toBe(true);
  expect(op.counts.par).toBe(1);
  expect(String(request.headers.authorization)).toMatch(/^Basic /);
});

test('confidential client, client_secret_post: the secret goes in the body', async () => {
  const { request } = await loginAndExchange('post');
  expect(request.headers.authorization).toBeUndefined();
  expect(request.params.client_id).toBe('post-client');
  expect(request.params.client_secret).toBe(POST_CLIENT_SECRET);
  expect(typeof request.params.code_verifier).toBe('string');
});

test('public client (none): no secret anywhere, the PKCE verifier proves the login', async () => {
  const { request } = await loginAndExchange('public');
  expect(request.headers.authorization).toBeUndefined();
  expect(request.params.client_secret).toBeUndefined();
  expect(request.params.client_id).toBe('public-client');
  expect(typeof request.params.code_verifier).toBe('string');
});

test('public client (none), form_post through PAR', async () => {
  const { request } = await loginAndExchange('publicFormPostPar');
  expect(op.counts.par).toBe(1);
  expect(request.params.client_secret).toBeUndefined();
  expect(typeof request.params.code_verifier).toBe('string');
});
