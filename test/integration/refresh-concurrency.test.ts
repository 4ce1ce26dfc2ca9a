/**
 * One refresh per session however many requests find the token expired, and no roll-back of
 * refreshed tokens by a request that loaded the session before the refresh. The OP rotates
 * refresh tokens, and a second use of a rotated one revokes the whole grant there, so any double
 * refresh or rolled-back refresh token would show up as a failed refresh and a logout.
 */
import type { Express } from 'express';
import {
  JSON_ACCEPT,
  signIn,
  startRefreshSetup,
  stored,
  storedRecord,
  untilDue,
  untilExpired,
  type RefreshSetup,
} from '../helpers/refresh-app.js';

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}
function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** A route that loads the session, waits for the test, then writes to it: a slow request. */
let arrived = deferred();
let release = deferred();
function slowWriteRoute(app: Express): void {
  app.get('/slow-write', async (req, res) => {
    arrived.resolve();
    await release.promise;
    req.session.note = 'written by the slow request';
    res.json({ ok: true });
  });
}

declare module 'express-session' {
  interface SessionData {
    note?: string;
  }
}

describe('50 concurrent requests of one session at expiry', () => {
  let setup: RefreshSetup;
  afterEach(async () => {
    await setup?.close();
  });

  test.each([
    ['auto-refresh on (refreshed before the route runs)', true],
    ['auto-refresh off (refreshed by getAccessToken())', false],
  ])('%s: exactly one refresh grant, all see the same new token, still logged in', async (_name, autoRefresh) => {
    setup = await startRefreshSetup({}, { autoRefresh });
    const browser = await signIn(setup);
    const before = await stored(setup, browser);
    expect(before?.refresh_token).toBeDefined();
    await untilExpired(before!);
    setup.op.resetCounts();

    const responses = await Promise.all(Array.from({ length: 50 }, () => browser.get(`${setup.app.url}/token`, JSON_ACCEPT)));

    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200));
    const tokens = new Set(responses.map((r) => (JSON.parse(r.body) as { access_token: string }).access_token));
    expect(tokens.size).toBe(1);
    const [token] = tokens;
    expect(token).not.toBe(before!.access_token);
    expect(setup.op.counts.token.refresh_token).toBe(1);

    const after = await stored(setup, browser);
    expect(after?.access_token).toBe(token);
    expect(after?.refresh_token).not.toBe(before!.refresh_token);
    expect(after?.v).toBe(before!.v + 1);
    const profile = await browser.get(`${setup.app.url}/profile`, JSON_ACCEPT);
    expect(profile.status).toBe(200);
    // The stored refresh token is the live one: the grant was not revoked by a double redemption.
    const again = await browser.post(`${setup.app.url}/refresh`, {}, JSON_ACCEPT);
    expect(again.status).toBe(200);
    expect(setup.op.counts.token.refresh_token).toBe(2);
  });
});

describe('no roll-back', () => {
  let setup: RefreshSetup;
  beforeAll(async () => {
    setup = await startRefreshSetup({ accessTokenTTL: 60 }, { autoRefresh: true }, slowWriteRoute);
  });
  afterAll(async () => {
    await setup?.close();
  });

  test('a request that loaded the session before a refresh and saves after it keeps the new tokens', async () => {
    arrived = deferred();
    release = deferred();
    const browser = await signIn(setup);
    const old = await stored(setup, browser);

    // A loads the session (old tokens) and waits inside its route.
    const slow = browser.get(`${setup.app.url}/slow-write`, JSON_ACCEPT);
    await arrived.promise;

    // B refreshes and saves.
    const refreshed = await browser.post(`${setup.app.url}/refresh`, {}, JSON_ACCEPT);
    expect(refreshed.status).toBe(200);
    const bTokens = await stored(setup, browser);
    expect(bTokens?.access_token).not.toBe(old?.access_token);
    expect(bTokens?.refresh_token).not.toBe(old?.refresh_token);

    // A wrote to req.session and saves its (old) copy.
    release.resolve();
    expect((await slow).status).toBe(200);

    const record = await storedRecord(setup, browser);
    const final = record?.oidc as typeof old;
    expect(record?.note).toBe('written by the slow request');
    expect(final?.access_token).toBe(bTokens?.access_token);
    expect(final?.refresh_token).toBe(bTokens?.refresh_token);
    expect(final?.v).toBe(bTokens?.v);

    // And the stored refresh token still works at the OP (a rolled-back one would revoke the grant).
    setup.op.resetCounts();
    const next = await browser.post(`${setup.app.url}/refresh`, {}, JSON_ACCEPT);
    expect(next.status).toBe(200);
    expect(setup.op.counts.token.refresh_token).toBe(1);
    expect((await browser.get(`${setup.app.url}/profile`, JSON_ACCEPT)).status).toBe(200);
  });

  test('a request that loaded the session before an automatic refresh and saves after it keeps the new tokens', async () => {
    await setup.close();
    setup = await startRefreshSetup({ accessTokenTTL: 4 }, {}, slowWriteRoute);
    arrived = deferred();
    release = deferred();
    const browser = await signIn(setup);
    const old = await stored(setup, browser);

    const slow = browser.get(`${setup.app.url}/slow-write`, JSON_ACCEPT);
    await arrived.promise;
    await untilDue(old!);
    // B comes in when the token is due: auto-refresh stores new tokens before B's route runs.
    const b = await browser.get(`${setup.app.url}/at`, JSON_ACCEPT);
    const bToken = (JSON.parse(b.body) as { access_token: string }).access_token;
    expect(bToken).not.toBe(old?.access_token);

    release.resolve();
    expect((await slow).status).toBe(200);
    const final = await stored(setup, browser);
    expect(final?.access_token).toBe(bToken);
    expect((await storedRecord(setup, browser))?.note).toBe('written by the slow request');
  });
});
