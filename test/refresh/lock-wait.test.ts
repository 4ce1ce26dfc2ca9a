/**
 * How long a refresh waits for a busy lock: never past `waitMs` (the 503 comes in time), polling
 * with a growing, capped interval (neither a busy loop nor a few long sleeps that overshoot), and
 * a lock's expiry at its exact millisecond. A failed release does not fail the work.
 */
import { afterEach, describe, expect, jest, test } from '@jest/globals';

import { OidcError } from '../../src/errors.js';
import { MemoryRefreshLock, withLock, type RefreshLock } from '../../src/refresh/lock.js';

/** The real in-process lock, counting acquire attempts. */
class CountingLock extends MemoryRefreshLock {
  attempts = 0;
  override acquire(key: string, ttlMs: number) {
    this.attempts += 1;
    return super.acquire(key, ttlMs);
  }
}

async function timeout(promise: Promise<unknown>): Promise<OidcError> {
  const outcome = await promise.then(
    () => new Error('the work ran'),
    (err: unknown) => err,
  );
  if (!(outcome instanceof OidcError)) throw outcome;
  return outcome;
}

describe('waiting for a busy lock', () => {
  test('the 503 comes no later than waitMs, and not much earlier', async () => {
    const lock = new CountingLock();
    const held = await lock.acquire('k', 60_000);
    const waitMs = 2_000;
    const started = Date.now();
    const err = await timeout(withLock(lock, 'k', { holdMs: 5_000, waitMs }, async () => 'never'));
    const took = Date.now() - started;
    expect(err.code).toBe('ERR_REFRESH_LOCK_TIMEOUT');
    expect(err.status).toBe(503);
    expect(err.message).toBe('another refresh of this session did not finish in time');
    // It stops before a poll would end past the deadline: at most one poll interval (100 ms) early.
    expect(took).toBeLessThanOrEqual(waitMs + 250);
    expect(took).toBeGreaterThanOrEqual(waitMs - 100 - 50);
    // Intervals of 10, 20, 40, 80, then 100 ms: about 22 attempts in 2 s, fewer under load.
    expect(lock.attempts).toBeGreaterThanOrEqual(10);
    expect(lock.attempts).toBeLessThanOrEqual(30);
    await held!();
  });

  test('a lock freed while waiting is taken at the next poll', async () => {
    const lock = new CountingLock();
    const held = await lock.acquire('k', 60_000);
    setTimeout(() => void held!(), 200);
    const started = Date.now();
    await expect(withLock(lock, 'k', { holdMs: 5_000, waitMs: 5_000 }, async () => 'ran')).resolves.toBe('ran');
    expect(Date.now() - started).toBeLessThan(200 + 100 + 300);
  });

  test('waitMs 0 gives up after one attempt', async () => {
    const lock = new CountingLock();
    const held = await lock.acquire('k', 60_000);
    const started = Date.now();
    await timeout(withLock(lock, 'k', { holdMs: 5_000, waitMs: 0 }, async () => 'never'));
    expect(lock.attempts).toBe(2);
    expect(Date.now() - started).toBeLessThan(100);
    await held!();
  });

  test('the lock is taken for holdMs', async () => {
    const taken: number[] = [];
    const lock: RefreshLock = {
      acquire: async (_key, ttlMs) => {
        taken.push(ttlMs);
        return async () => {};
      },
    };
    await withLock(lock, 'k', { holdMs: 1_234, waitMs: 10 }, async () => 'ran');
    expect(taken).toEqual([1_234]);
  });

  test('a lock whose backend fails gives its own 503 message', async () => {
    const broken: RefreshLock = { acquire: async () => Promise.reject(new Error('down')) };
    const err = await timeout(withLock(broken, 'k', { holdMs: 5_000, waitMs: 60 }, async () => 'never'));
    expect([err.code, err.status, err.message]).toEqual(['ERR_REFRESH_LOCK_TIMEOUT', 503, 'the refresh lock is unavailable']);
  });

  test('a release that fails does not fail the work', async () => {
    const lock: RefreshLock = { acquire: async () => async () => Promise.reject(new Error('release lost')) };
    await expect(withLock(lock, 'k', { holdMs: 5_000, waitMs: 60 }, async () => 'ran')).resolves.toBe('ran');
  });
});

describe('MemoryRefreshLock expiry, to the millisecond', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  test('busy until the last millisecond of its ttl, free at it', async () => {
    jest.useFakeTimers({ now: 1_000_000, doNotFake: ['nextTick', 'setImmediate', 'clearImmediate', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'queueMicrotask', 'hrtime', 'performance'] });
    const lock = new MemoryRefreshLock();
    expect(await lock.acquire('k', 1_000)).not.toBeNull();
    jest.setSystemTime(1_000_999);
    expect(await lock.acquire('k', 1_000)).toBeNull();
    jest.setSystemTime(1_001_000);
    const next = await lock.acquire('k', 1_000);
    expect(next).not.toBeNull();
    // The new holder got its own full ttl.
    jest.setSystemTime(1_001_999);
    expect(await lock.acquire('k', 1_000)).toBeNull();
    await next!();
    expect(await lock.acquire('k', 1_000)).not.toBeNull();
  });
});
