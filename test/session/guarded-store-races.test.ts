/**
 * The GuardedStore under a slow or failing store: a save begun before a logout cannot write the
 * session back after it; a failed read during a save fails the save visibly (its tokens, maybe a
 * rotated refresh token, must not be dropped in silence); every store call is bounded by the
 * timeout and becomes a 503; a new session's first save goes through, a later one does not bring
 * back a record that is gone. The store is the library's own MemoryStore, slowed or broken here.
 */
import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals';
import { inspect } from 'node:util';
import session from 'express-session';

import { OidcError } from '../../src/errors.js';
import { GuardedStore, MemoryStore, type OidcSession } from '../../src/session/index.js';
import { copyTokens, storeUnavailable } from '../../src/session/guarded-store.js';

type Callback<T = unknown> = (err?: unknown, value?: T) => void;
type Record_ = session.SessionData & { note?: string };

const TIMEOUT_MS = 300;

function record(v: number, note?: string, expires = true): Record_ {
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
  const cookie = { originalMaxAge: 60_000, ...(expires ? { expires: new Date(Date.now() + 60_000) } : {}) } as session.Cookie;
  return { cookie, oidc, ...(note === undefined ? {} : { note }) };
}

const call = <T>(op: (cb: Callback<T>) => void) => new Promise<T | undefined>((resolve, reject) => op((err, value) => (err ? reject(err) : resolve(value))));
const failure = (op: (cb: Callback) => void) =>
  new Promise<unknown>((resolve, reject) => op((err) => (err ? resolve(err) : reject(new Error('the store call succeeded')))));
const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

/** A MemoryStore whose calls can be held back, made to fail, throw, or never answer. */
class FaultyStore extends MemoryStore {
  /** Reads happen at once; their answers wait here while `gated`. */
  gates: Array<() => void> = [];
  gated = false;
  failGet: unknown = undefined;
  failSet: unknown = undefined;
  throwOnSet = false;
  hang = false;
  /** Answers every read twice (a buggy client library). */
  answerTwice = false;
  sets = 0;
  destroys = 0;
  gets = 0;
  touches = 0;

  override get(sid: string, callback: Callback<session.SessionData | null>): void {
    this.gets += 1;
    if (this.hang) return;
    if (this.failGet !== undefined) return callback(this.failGet);
    if (this.answerTwice) {
      super.get(sid, callback);
      return super.get(sid, callback);
    }
    if (!this.gated) return super.get(sid, callback);
    super.get(sid, (err, value) => this.gates.push(() => callback(err, value)));
  }

  override set(sid: string, sess: session.SessionData, callback?: (err?: unknown) => void): void {
    this.sets += 1;
    if (this.throwOnSet) throw new Error('store client crashed');
    if (this.failSet !== undefined) return callback?.(this.failSet);
    super.set(sid, sess, callback);
  }

  override destroy(sid: string, callback?: (err?: unknown) => void): void {
    this.destroys += 1;
    super.destroy(sid, callback);
  }

  override touch(sid: string, sess: session.SessionData, callback?: (err?: unknown) => void): void {
    this.touches += 1;
    super.touch(sid, sess, callback);
  }
}

let inner: FaultyStore;
let store: GuardedStore;
beforeEach(() => {
  inner = new FaultyStore();
  store = new GuardedStore(inner, TIMEOUT_MS);
});
afterEach(() => inner.close());

const stored = () => call<session.SessionData | null>((cb) => inner.get('sid', cb)) as Promise<Record_ | null>;

describe('a logout racing a slow save', () => {
  test('a save begun before the logout does not write the session back', async () => {
    await call((cb) => inner.set('sid', record(1), cb));
    inner.gated = true;
    // The save reads the (still signed-in) record; its answer is held back...
    const save = call((cb) => store.set('sid', record(2, 'late save'), cb));
    await tick();
    // ...while the user logs out.
    const logout = call((cb) => store.destroy('sid', cb));
    await tick();
    // The logout waits for the save: the record is still there.
    expect(inner.gates).toHaveLength(1);
    expect(await new Promise((resolve) => MemoryStore.prototype.get.call(inner, 'sid', (_e: unknown, v: unknown) => resolve(v)))).not.toBeNull();
    inner.gates.shift()!();
    await save;
    await logout;
    inner.gated = false;
    expect(await stored()).toBeNull();
  });

  test('writes of other sessions do not wait for it', async () => {
    await call((cb) => inner.set('sid', record(1), cb));
    inner.gated = true;
    const save = call((cb) => store.set('sid', record(2), cb));
    await tick();
    await call((cb) => store.destroy('other', cb));
    // Done while the save of 'sid' still waits for its read.
    expect(inner.gates).toHaveLength(1);
    inner.gates.shift()!();
    await save;
  });
});

describe('a failing read during a save', () => {
  test('fails the save with a 503, and nothing is written', async () => {
    await call((cb) => inner.set('sid', record(1), cb));
    const writes = inner.sets;
    inner.failGet = new Error('connection reset');
    const err = await failure((cb) => store.set('sid', record(2), cb));
    expect(err).toBeInstanceOf(OidcError);
    expect((err as OidcError).code).toBe('ERR_SESSION_STORE_UNAVAILABLE');
    expect((err as OidcError).status).toBe(503);
    expect(inner.sets).toBe(writes);
    inner.failGet = undefined;
    expect((await stored())?.oidc?.refresh_token).toBe('refresh-1');
  });
});

describe('every store call is bounded and fails as a 503', () => {
  test('a read that never answers fails after the timeout', async () => {
    inner.hang = true;
    const started = Date.now();
    const err = await failure((cb) => store.get('sid', cb));
    const took = Date.now() - started;
    expect((err as OidcError).code).toBe('ERR_SESSION_STORE_UNAVAILABLE');
    expect(took).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
    expect(took).toBeLessThan(TIMEOUT_MS * 5);
  });

  test('a save whose read never answers fails after the timeout', async () => {
    inner.hang = true;
    const err = await failure((cb) => store.set('sid', record(1), cb));
    expect((err as OidcError).status).toBe(503);
  });

  test('a failed or throwing write is a 503; an OidcError passes through as it is', async () => {
    inner.failSet = new Error('READONLY');
    expect((await failure((cb) => store.set('sid', { cookie: record(1).cookie }, cb)) as OidcError).code).toBe('ERR_SESSION_STORE_UNAVAILABLE');
    inner.failSet = undefined;
    inner.throwOnSet = true;
    expect((await failure((cb) => store.set('sid', { cookie: record(1).cookie }, cb)) as OidcError).code).toBe('ERR_SESSION_STORE_UNAVAILABLE');
    const own = new OidcError('ERR_CONFIG_INVALID', 'kept', { status: 500 });
    expect(storeUnavailable(own)).toBe(own);
    expect(storeUnavailable(new Error('x')).message).toBe('the session store is unavailable');
  });

  test('a store answering in time gives its value, once', async () => {
    await call((cb) => inner.set('sid', record(1, 'hello'), cb));
    let answers = 0;
    const value = await new Promise<Record_ | null | undefined>((resolve) =>
      store.get('sid', (err, v) => {
        answers += 1;
        expect(err).toBeFalsy();
        resolve(v as Record_ | null | undefined);
      }),
    );
    expect(value?.note).toBe('hello');
    await new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS + 50));
    expect(answers).toBe(1);
  });

  test('a slow answer within the timeout is not also reported as a timeout', async () => {
    await call((cb) => inner.set('sid', record(1), cb));
    inner.gated = true;
    let answers = 0;
    const done = new Promise<unknown>((resolve) => store.get('sid', (err) => { answers += 1; resolve(err); }));
    await tick();
    inner.gates.shift()!();
    expect(await done).toBeFalsy();
    await new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS + 50));
    expect(answers).toBe(1);
  });
});

describe('saves of signed-in sessions whose record is gone', () => {
  test("a new session's first save goes through, a later one after its record is gone does not", async () => {
    const sess = record(1, 'new');
    store.markNew(sess);
    await call((cb) => store.set('sid', sess, cb));
    expect((await stored())?.note).toBe('new');
    await call((cb) => inner.destroy('sid', cb));
    await call((cb) => store.set('sid', sess, cb));
    expect(await stored()).toBeNull();
  });

  test('a session never marked new is not written when no record exists', async () => {
    await call((cb) => store.set('sid', record(1), cb));
    expect(await stored()).toBeNull();
  });

  test('an anonymous session is written without reading the store first', async () => {
    const reads = inner.gets;
    await call((cb) => store.set('sid', { cookie: record(1).cookie, note: 'anonymous' } as Record_, cb));
    expect(inner.gets).toBe(reads);
    expect((await stored())?.note).toBe('anonymous');
  });

  test('set and destroy work without a callback', async () => {
    const sess = record(1);
    store.markNew(sess);
    store.set('sid', sess);
    await tick();
    expect(await stored()).not.toBeNull();
    store.destroy('sid');
    await tick();
    expect(await stored()).toBeNull();
  });
});

describe('touch', () => {
  test('a session with a persistent cookie is not touched (every write stored its expiry)', async () => {
    await call((cb) => store.touch('sid', record(1), cb));
    expect(inner.touches).toBe(0);
  });

  test('a browser-session cookie is touched in the store', async () => {
    await call((cb) => inner.set('sid', record(1, undefined, false), cb));
    await call((cb) => store.touch('sid', record(1, undefined, false), cb));
    expect(inner.touches).toBe(1);
    store.touch('sid', record(1, undefined, false));
    await tick();
    expect(inner.touches).toBe(2);
  });

  test('a store without touch is fine', async () => {
    const plain = new MemoryStore();
    (plain as { touch?: unknown }).touch = undefined;
    await expect(call((cb) => new GuardedStore(plain, TIMEOUT_MS).touch('sid', record(1, undefined, false), cb))).resolves.toBeUndefined();
    plain.close();
  });
});

describe('the write queue of a session id', () => {
  test('a third write waits for the second, which waits for the first', async () => {
    await call((cb) => inner.set('sid', record(1), cb));
    inner.gated = true;
    const order: string[] = [];
    const first = call((cb) => store.set('sid', record(2), cb)).then(() => order.push('first'));
    const second = call((cb) => store.set('sid', record(3), cb)).then(() => order.push('second'));
    await tick();
    inner.gates.shift()!();
    await first;
    await tick();
    // The first is done and the second holds its read: a destroy now must wait for the second.
    const destroy = call((cb) => store.destroy('sid', cb)).then(() => order.push('destroy'));
    await tick();
    expect(inner.destroys).toBe(0);
    inner.gates.shift()!();
    await Promise.all([second, destroy]);
    expect(order).toEqual(['first', 'second', 'destroy']);
  });

  test('once its writes are done, the queue of an id is gone: the next write starts at once', async () => {
    const sess = record(1);
    store.markNew(sess);
    await call((cb) => store.set('sid', sess, cb));
    await tick();
    store.destroy('sid');
    // Not deferred behind a finished write.
    expect(inner.destroys).toBe(1);
  });
});

describe('one answer per store call', () => {
  test('an answer after the timeout is dropped: the caller got its 503 once', async () => {
    await call((cb) => inner.set('sid', record(1), cb));
    inner.gated = true;
    const answers: unknown[] = [];
    store.get('sid', (err) => answers.push(err));
    await new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS + 50));
    inner.gates.shift()!();
    await tick();
    expect(answers).toHaveLength(1);
    expect((answers[0] as OidcError).code).toBe('ERR_SESSION_STORE_UNAVAILABLE');
  });

  test('a store answering twice is heard once', async () => {
    await call((cb) => inner.set('sid', record(1), cb));
    inner.answerTwice = true;
    let answers = 0;
    store.get('sid', () => {
      answers += 1;
    });
    await tick();
    expect(answers).toBe(1);
  });

  test('a store that throws fails at once, not after the timeout', async () => {
    inner.throwOnSet = true;
    const started = Date.now();
    await failure((cb) => store.set('sid', { cookie: record(1).cookie }, cb));
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS / 2);
  });

  test('a session without a cookie object is touched without a crash', async () => {
    await expect(call((cb) => store.touch('sid', {} as session.SessionData, cb))).resolves.toBeUndefined();
  });
});

describe('timers', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  test('a store answering at once arms no timer; a slow answer disarms its timer', async () => {
    await call((cb) => inner.set('sid', record(1), cb));
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'Date'] });
    const baseline = jest.getTimerCount();
    await call((cb) => store.get('sid', cb));
    expect(jest.getTimerCount()).toBe(baseline);
    inner.gated = true;
    const slow = call((cb) => store.get('sid', cb));
    expect(jest.getTimerCount()).toBe(baseline + 1);
    inner.gates.shift()!();
    await slow;
    expect(jest.getTimerCount()).toBe(baseline);
  });
});

test('copyTokens removes the fields the source lacks, rather than setting them undefined', () => {
  const target = record(1).oidc as OidcSession;
  const source = { ...(record(2).oidc as OidcSession) };
  delete source.refresh_token;
  copyTokens(target, source);
  expect('refresh_token' in target).toBe(false);
  expect(target.access_token).toBe('access-2');
});

test('copyTokens copies every token field, the per-API tokens too, and leaves the session fields alone', () => {
  const target = { ...(record(1).oidc as OidcSession), created_at: 5, last_seen: 6 };
  const apis = { 'https://api.example.com': { access_token: 'api-access-2', token_type: 'Bearer', expires_at: 2_000_000_100 } };
  const source = { ...(record(2).oidc as OidcSession), issued_at: 1_999_999_000, scope: 'openid offline_access', apis } as OidcSession;
  copyTokens(target, source);
  expect(target).toEqual({ ...source, created_at: 5, last_seen: 6 });
  copyTokens(target, record(3).oidc as OidcSession);
  expect(['apis' in target, 'scope' in target, 'issued_at' in target, target.v]).toEqual([false, false, false, 3]);
});

test('a GuardedStore prints the name of the store it wraps and its timeout, never what that store holds', async () => {
  const inner = new MemoryStore();
  const store = new GuardedStore(inner, TIMEOUT_MS);
  await call((cb) => store.set('sid-1', record(7) as session.SessionData, cb));
  const printed = [inspect(store, { depth: 10 }), JSON.stringify(store), String(store)];
  expect(printed.slice(0, 2)).toEqual([`GuardedStore { store: 'MemoryStore', timeout: ${TIMEOUT_MS} }`, `{"store":"MemoryStore","timeout":${TIMEOUT_MS}}`]);
  for (const text of printed) expect(text).not.toMatch(/refresh-7|access-7|id-7|sid-1/);
});
