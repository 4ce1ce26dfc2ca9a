/**
 * The callback's `iss` check against an OP that does not advertise
 * `authorization_response_iss_parameter_supported` (as Auth0 does not): an `iss` naming another
 * issuer is still refused (a mix-up attack), a missing one is accepted (the OP never promised it),
 * the right one passes. The test OP is oidc-provider with the flag removed from its discovery.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';

import { Browser } from '../helpers/browser.js';
import { freePort, startApp, type TestApp } from '../helpers/app.js';
import { authorizeUntilCallback, deliver, errorBody, paramsOf, whoAmI } from '../helpers/flow.js';
import { createTestOP, USERS, type TestOP } from '../helpers/op.js';

let op: TestOP;
let app: TestApp;

beforeAll(async () => {
  const port = await freePort();
  op = await createTestOP({
    appBaseURL: `http://127.0.0.1:${port}`,
    middleware: [
      async (ctx, next) => {
        await next();
        if (ctx.path === '/.well-known/openid-configuration' && typeof ctx.body === 'object' && ctx.body !== null) {
          const { authorization_response_iss_parameter_supported: _dropped, ...rest } = ctx.body as Record<string, unknown>;
          ctx.body = rest;
        }
      },
    ],
  });
  app = await startApp(op.issuer, port);
});
afterAll(async () => {
  await app?.close();
  await op?.stop();
});

async function loginUntilCallback() {
  const browser = new Browser();
  return { browser, delivery: await authorizeUntilCallback(browser, `${app.url}/login`) };
}

test('the OP does not advertise the iss response parameter', async () => {
  const metadata = (await (await fetch(`${op.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
  expect(metadata.issuer).toBe(op.issuer);
  expect('authorization_response_iss_parameter_supported' in metadata).toBe(false);
});

test('an iss naming another issuer is refused (ERR_ISSUER_MISMATCH) and nobody is signed in', async () => {
  const { browser, delivery } = await loginUntilCallback();
  paramsOf(delivery).set('iss', 'https://evil.example.com');
  const res = await deliver(browser, delivery);
  expect({ status: res.status, code: errorBody(res)?.code }).toEqual({ status: 400, code: 'ERR_ISSUER_MISMATCH' });
  expect((await whoAmI(browser, app.url)).authenticated).toBe(false);
});

test('a missing iss is accepted: the OP never promised one', async () => {
  const { browser, delivery } = await loginUntilCallback();
  paramsOf(delivery).delete('iss');
  const res = await deliver(browser, delivery);
  expect(res.url).toBe(`${app.url}/`);
  expect((await whoAmI(browser, app.url)).user?.sub).toBe(USERS.alice.sub);
});

test("the OP's own iss passes", async () => {
  const { browser, delivery } = await loginUntilCallback();
  expect(paramsOf(delivery).get('iss')).toBe(op.issuer);
  const res = await deliver(browser, delivery);
  expect(res.url).toBe(`${app.url}/`);
  expect((await whoAmI(browser, app.url)).user?.sub).toBe(USERS.alice.sub);
});
