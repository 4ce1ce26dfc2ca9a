/**
 * The default in-process store: expired sessions are never returned and are pruned on a timer,
 * so memory does not grow without bound.
 */
import type { SessionData } from 'express-session';
import { MemoryStore } from '../../src/session/memory-store.js';

const stores: MemoryStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
});
function storeWith(options: ConstructorParameters<typeof MemoryStore>[0] = {}): MemoryStore {
  const store = new MemoryStore(options);
  stores.push(store);
  return store;
}

/** A session whose cookie expires `ms` from now (or has no expiry). */
function sessionExpiringIn(ms: number | undefined, extra: Record<string, unknown> = {}): SessionData {
  const cookie = ms === undefined ? { originalMaxAge: null } : { originalMaxAge: ms, expires: new Date(Date.now() + ms) };
  return { cookie, ...extra } as unknown as SessionData;
}

const get = (store: MemoryStore, sid: string) =>
  new Promise<SessionData | null | undefined>((resolve, reject) => store.get(sid, (err, value) => (err ? reject(err) : resolve(value))));
const length = (store: MemoryStore) => new Promise<number>((resolve) => store.length((_err, n) => resolve(n ?? -1)));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('a stored session comes back as a copy: changing it does not change the store', async () => {
  const store = storeWith();
  store.set('a', sessionExpiringIn(60_000, { n: 1 }));
  const first = (await get(store, 'a')) as unknown as { n: number };
  first.n = 2;
  expect(((await get(store, 'a')) as unknown as { n: number }).n).toBe(1);
});

test('an expired session is never returned, and is dropped when read', async () => {
  const store = storeWith({ pruneInterval: 60_000 });
  store.set('old', sessionExpiringIn(-1));
  expect(await length(store)).toBe(1);
  expect(await get(store, 'old')).toBeNull();
  expect(await length(store)).toBe(0);
});

test('expired sessions are pruned on a timer, without being read', async () => {
  const store = storeWith({ pruneInterval: 20 });
  for (let i = 0; i < 50; i += 1) store.set(`short-${i}`, sessionExpiringIn(10));
  store.set('long', sessionExpiringIn(60_000));
  expect(await length(store)).toBe(51);
  // Bounded wait: pruning runs every 20 ms.
  for (let i = 0; i < 50 && (await length(store)) > 1; i += 1) await sleep(20);
  expect(await length(store)).toBe(1);
  expect(await get(store, 'long')).not.toBeNull();
});

test('prune() drops expired sessions at once', async () => {
  const store = storeWith({ pruneInterval: 60_000 });
  store.set('gone', sessionExpiringIn(-1));
  store.set('kept', sessionExpiringIn(60_000));
  store.prune();
  expect(await length(store)).toBe(1);
});

test('a session without a cookie expiry lives for fallbackTtl', async () => {
  const store = storeWith({ fallbackTtl: 30, pruneInterval: 60_000 });
  store.set('transient', sessionExpiringIn(undefined));
  expect(await get(store, 'transient')).not.toBeNull();
  await sleep(50);
  expect(await get(store, 'transient')).toBeNull();
});

test('touch extends the expiry', async () => {
  const store = storeWith({ pruneInterval: 60_000 });
  store.set('s', sessionExpiringIn(30));
  store.touch('s', sessionExpiringIn(60_000));
  await sleep(50);
  expect(await get(store, 's')).not.toBeNull();
});

test('destroy, all and clear', async () => {
  const store = storeWith();
  store.set('a', sessionExpiringIn(60_000));
  store.set('b', sessionExpiringIn(60_000));
  store.set('c', sessionExpiringIn(-1));
  const all = await new Promise<Record<string, SessionData>>((resolve) => store.all((_err, v) => resolve(v ?? {})));
  expect(Object.keys(all).sort()).toEqual(['a', 'b']);
  store.destroy('a');
  expect(await get(store, 'a')).toBeNull();
  store.clear();
  expect(await length(store)).toBe(0);
});
