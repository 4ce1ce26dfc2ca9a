/**
 * Logout revokes the session's refresh token at the OP; a failing revocation does not block it.
 */
import type session from 'express-session';
import { AuthClient, OidcError } from '../../src/index.js';
import { MemoryStore } from '../../src/session/index.js';
import { TEST_CLIENT_ID, TEST_CLIENT_SECRET } from '../helpers/op.js';
import { JSON_ACCEPT, sessionId, signIn, startRefreshSetup, stored, storedRecord, type RefreshSetup } from '../helpers/refresh-app.js';

let setup: RefreshSetup;
afterEach(async () => {
  await setup?.close();
});

function opClient(): AuthClient {
  return new AuthClient({ issuerBaseURL: setup.op.issuer, clientID: TEST_CLIENT_ID, clientSecret: TEST_CLIENT_SECRET });
}

async function refreshFailsAtTheOP(refreshToken: string): Promise<void> {
  const attempt = opClient().refreshToken({ refreshToken });
  await expect(attempt).rejects.toBeInstanceOf(OidcError);
  await expect(attempt).rejects.toMatchObject({ error: 'invalid_grant' });
}

test('logout revokes the refresh token: it no longer works at the OP', async () => {
  setup = await startRefreshSetup({ accessTokenTTL: 60 });
  const browser = await signIn(setup);
  const before = await stored(setup, browser);
  setup.op.resetCounts();

  const out = await browser.get(`${setup.app.url}/logout`);
  expect(out.url).toBe(`${setup.app.url}/`);
  expect(JSON.parse(out.body).authenticated).toBe(false);
  expect(setup.op.counts.revocation).toBe(1);
  await refreshFailsAtTheOP(before!.refresh_token!);
});

test('after a rotation, logout revokes the newest refresh token', async () => {
  setup = await startRefreshSetup({ accessTokenTTL: 60 });
  const browser = await signIn(setup);
  expect((await browser.post(`${setup.app.url}/refresh`, {}, JSON_ACCEPT)).status).toBe(200);
  const rotated = await stored(setup, browser);

  await browser.get(`${setup.app.url}/logout`);
  await refreshFailsAtTheOP(rotated!.refresh_token!);
});

test('an OP that is down does not block the logout', async () => {
  setup = await startRefreshSetup({ accessTokenTTL: 60 });
  const browser = await signIn(setup);
  const sid = sessionId(browser);
  const before = await stored(setup, browser);

  await setup.op.stop();
  const out = await browser.get(`${setup.app.url}/logout`, { follow: false });
  expect(out.status).toBe(302);
  expect(out.headers.get('location')).toBe(`${setup.app.url}/`);
  expect(setup.app.errors).toEqual([]);
  // The session is gone on the server.
  expect(await storedRecord(setup, sid)).toBeNull();
  expect(JSON.parse((await browser.get(`${setup.app.url}/`, JSON_ACCEPT)).body).authenticated).toBe(false);

  // The revocation did not happen: the refresh token still works once the OP is back.
  await setup.op.start();
  await expect(opClient().refreshToken({ refreshToken: before!.refresh_token! })).resolves.toMatchObject({ tokenType: 'Bearer' });
});

test('revokeOnLogout: false leaves the refresh token alone', async () => {
  setup = await startRefreshSetup({ accessTokenTTL: 60 }, { revokeOnLogout: false });
  const browser = await signIn(setup);
  const before = await stored(setup, browser);
  setup.op.resetCounts();
  await browser.get(`${setup.app.url}/logout`);
  expect(setup.op.counts.revocation).toBe(0);
  await expect(opClient().refreshToken({ refreshToken: before!.refresh_token! })).resolves.toMatchObject({ tokenType: 'Bearer' });
});

/** The in-process store, refusing writes while `refusing` (a store that is down for writes only). */
class WritesRefused extends MemoryStore {
  refusing = false;
  override set(sid: string, data: session.SessionData, callback?: (err?: unknown) => void): void {
    if (this.refusing) {
      callback?.(new Error('store refuses writes'));
      return;
    }
    super.set(sid, data, callback);
  }
}

test('a logout while rotated tokens still wait to be stored revokes those, the newest (autoRefresh off)', async () => {
  const store = new WritesRefused();
  // The tokens the revocation endpoint was asked to revoke (read once the OP has parsed them).
  const revoked: unknown[] = [];
  setup = await startRefreshSetup(
    {
      accessTokenTTL: 60,
      middleware: [
        async (ctx, next) => {
          await next();
          if (ctx.path.endsWith('/revocation')) revoked.push((ctx as { oidc?: { params?: { token?: unknown } } }).oidc?.params?.token);
        },
      ],
    },
    { autoRefresh: false },
    (express) => {
      express.post('/refresh-and-tell', async (req, res, next) => {
        try {
          await req.oidc.accessToken?.refresh();
          res.json({ refreshToken: req.oidc.refreshToken });
        } catch (err) {
          next(err);
        }
      });
    },
    store,
  );
  const browser = await signIn(setup);
  const before = await stored(setup, browser);
  store.refusing = true;
  const told = await browser.post(`${setup.app.url}/refresh-and-tell`, {}, JSON_ACCEPT);
  const newest = (JSON.parse(told.body) as { refreshToken: string }).refreshToken;
  expect(newest).not.toBe(before!.refresh_token);
  // The store still has the tokens of before the refresh; the rotated ones wait in memory.
  expect((await stored(setup, browser))!.refresh_token).toBe(before!.refresh_token);

  setup.op.resetCounts();
  await browser.get(`${setup.app.url}/logout`);
  expect(revoked).toEqual([newest]);
  await refreshFailsAtTheOP(newest);
});
