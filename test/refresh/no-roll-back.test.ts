/**
 * The GuardedStore keeps the newest tokens: a save of an older copy of the session cannot put old
 * tokens back, even when it races with the write of the new ones.
 */
import session from 'express-session';
import { GuardedStore, MemoryStore, type OidcSession } from '../../src/session/index.js';

type Record_ = session.SessionData & { note?: string };

function record(v: number, note?: string): Record_ {
  const oidc: OidcSession = {
    v,
    id_token: `id-${v}`,
    access_token: `access-${v}`,
    token_type: 'Bearer',
    expires_at: 2_000_000_000 + v,
    refresh_token: `refresh-${v}`,
    created_at: 1,
    last_seen: 1,
  };
  return { cookie: { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000) } as session.Cookie, oidc, ...(note === undefined ? {} : { note }) };
}

const call = <T>(op: (cb: (err?: unknown, value?: T) => void) => void) =>
  new Promise<T | undefined>((resolve, reject) => op((err, value) => (err ? reject(err) : resolve(value))));

/** A MemoryStore whose reads wait for the test to let them through, to order a race. */
class GatedStore extends MemoryStore {
  gates: Array<() => void> = [];
  gated = false;
  override get(sid: string, callback: (err?: unknown, value?: session.SessionData | null) => void): void {
    if (!this.gated) return super.get(sid, callback);
    // The read happens now; its answer is delivered when the test opens the gate.
    super.get(sid, (err, value) => this.gates.push(() => callback(err, value)));
  }
}

let inner: GatedStore;
let store: GuardedStore;
beforeEach(() => {
  inner = new GatedStore();
  store = new GuardedStore(inner, 2_000);
});
afterEach(() => inner.close());

test('a save of an older copy keeps the stored (newer) tokens and the rest of its changes', async () => {
  await call((cb) => inner.set('sid', record(2), cb));
  await call((cb) => store.set('sid', record(1, 'app data'), cb));
  const stored = (await call<session.SessionData | null>((cb) => inner.get('sid', cb))) as Record_;
  expect(stored.oidc).toMatchObject({ v: 2, access_token: 'access-2', refresh_token: 'refresh-2' });
  expect(stored.note).toBe('app data');
});

test('a save of a newer copy replaces the tokens', async () => {
  await call((cb) => inner.set('sid', record(1), cb));
  await call((cb) => store.set('sid', record(2), cb));
  const stored = (await call<session.SessionData | null>((cb) => inner.get('sid', cb))) as Record_;
  expect(stored.oidc?.access_token).toBe('access-2');
});

test('a stale save that read the store before a refresh wrote cannot roll the refresh back', async () => {
  await call((cb) => inner.set('sid', record(1), cb));
  inner.gated = true;
  // The stale save (v1) reads the stored record first...
  const stale = call((cb) => store.set('sid', record(1, 'stale request'), cb));
  // ...then the refresh writes v2 while the stale save still holds its read.
  const refresh = call((cb) => store.set('sid', record(2), cb));
  await new Promise((resolve) => setTimeout(resolve, 10));
  // Only the stale save's read has happened: the refresh waits its turn.
  expect(inner.gates).toHaveLength(1);
  inner.gates.shift()!();
  await stale;
  await new Promise((resolve) => setTimeout(resolve, 10));
  inner.gates.shift()!();
  await refresh;
  inner.gated = false;

  const stored = (await call<session.SessionData | null>((cb) => inner.get('sid', cb))) as Record_;
  expect(stored.oidc).toMatchObject({ v: 2, access_token: 'access-2', refresh_token: 'refresh-2' });
});

test('a stale save after the session was destroyed does not bring it back', async () => {
  await call((cb) => inner.set('sid', record(1), cb));
  await call((cb) => store.destroy('sid', cb));
  await call((cb) => store.set('sid', record(1, 'late'), cb));
  expect(await call((cb) => inner.get('sid', cb))).toBeNull();
});

test('a session signed out by a rejected refresh (tokens removed) is not signed in again by a stale save', async () => {
  await call((cb) => inner.set('sid', record(1), cb));
  const signedOut = record(1, 'kept');
  delete signedOut.oidc;
  await call((cb) => store.set('sid', signedOut, cb));
  await call((cb) => store.set('sid', record(1, 'stale'), cb));
  const stored = (await call<session.SessionData | null>((cb) => inner.get('sid', cb))) as Record_;
  expect(stored.oidc).toBeUndefined();
  expect(stored.note).toBe('kept');
});
