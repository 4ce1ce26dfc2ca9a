/**
 * A refresh whose ID token is about another user is refused, and the session stays the user's
 * own: it is never switched to the other user, whether the refresh is asked for explicitly
 * (accessToken.refresh()) or by getAccessToken() on an expired token (it may be signed out,
 * as after a refused refresh token). openid-client does not
 * compare the refreshed ID token's `sub` with the session's; this library does.
 */
import { afterEach, expect, test } from '@jest/globals';

import { USERS } from '../helpers/op.js';
import { JSON_ACCEPT, signIn, startRefreshSetup, stored, untilExpired, type RefreshSetup } from '../helpers/refresh-app.js';

let setup: RefreshSetup;
afterEach(async () => {
  await setup?.close();
});

async function profileSub(browser: Awaited<ReturnType<typeof signIn>>): Promise<unknown> {
  const res = await browser.get(`${setup.app.url}/`, JSON_ACCEPT);
  return (JSON.parse(res.body) as { user: { sub?: unknown } | null }).user?.sub;
}

test("accessToken.refresh() returning another user's ID token is refused; the session never becomes bob's", async () => {
  setup = await startRefreshSetup();
  const browser = await signIn(setup);
  const before = await stored(setup, browser);
  expect(await profileSub(browser)).toBe(USERS.alice.sub);

  setup.op.tamperIdToken((claims) => ({ claims: { ...claims, sub: USERS.bob.sub } }));
  const res = await browser.post(`${setup.app.url}/refresh`, {}, JSON_ACCEPT);
  expect(res.status).toBeGreaterThanOrEqual(400);
  // The refresh failed on the ID token check (the refresher may wrap it in ERR_REFRESH_FAILED).
  expect((JSON.parse(res.body) as { code?: string }).code).toMatch(/^ERR_(REFRESH_FAILED|ID_TOKEN_INVALID)$/);
  expect(res.body).not.toContain(USERS.bob.sub);
  setup.op.tamperIdToken(null);

  // The refusal may sign the session out (as a refused refresh token does), never into bob's.
  expect([USERS.alice.sub, undefined]).toContain(await profileSub(browser));
  const after = await stored(setup, browser);
  expect([before?.id_token, undefined]).toContain(after?.id_token);
  expect([before?.access_token, undefined]).toContain(after?.access_token);
});

test("getAccessToken() on an expired token: another user's ID token never reaches the session", async () => {
  setup = await startRefreshSetup();
  const browser = await signIn(setup);
  const before = await stored(setup, browser);
  await untilExpired(before!);

  setup.op.tamperIdToken((claims) => ({ claims: { ...claims, sub: USERS.bob.sub } }));
  const res = await browser.get(`${setup.app.url}/token`, JSON_ACCEPT);
  expect(res.status).toBeGreaterThanOrEqual(400);
  setup.op.tamperIdToken(null);

  expect(await profileSub(browser)).not.toBe(USERS.bob.sub);
  const after = await stored(setup, browser);
  // Still alice's tokens, or signed out: never bob's.
  expect([before?.id_token, undefined]).toContain(after?.id_token);
});
