/**
 * How a held refresh lock lives: the in-process lock's extensions and failure markers to the
 * millisecond, and the keeper that renews a lock every third of its lifetime, never past its
 * budget, takes it again when the backend lost it, and stops for good once released. The clock
 * and timers are jest's, so every boundary is exact.
 */
import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals';

import { acquireLock, MemoryRefreshLock, type RefreshLock, type ReleaseLock } from '../../src/refresh/lock.js';

beforeEach(() => {
  jest.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  jest.useRealTimers();
});

/** Moves the clock on by `ms`, running the timers that fall due and the promises they start. */
const advance = (ms: number) => jest.advanceTimersByTimeAsync(ms);

/** Resolves when `open()` is called: an answer of the lock backend that the test holds back. */
function gate() {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/**
 * A lock backend whose answers the test sets: whether an extension keeps the lock (`keeps`,
 * or a rejection with `down`), whether an acquire gets it (`free`), and answers held back by a
 * gate. `calls` lists what the keeper asked, each acquire numbered, its release and extensions
 * carrying that number.
 */
class ScriptedLock implements RefreshLock {
  readonly extendable: boolean;
  readonly calls: string[] = [];
  keeps = true;
  down = false;
  free = true;
  extendGate: Promise<void> | undefined;
  acquireGate: Promise<void> | undefined;
  #acquired = 0;

  constructor(extendable = true) {
    this.extendable = extendable;
  }

  async acquire(_key: string, ttlMs: number): Promise<ReleaseLock | null> {
    this.#acquired += 1;
    const n = this.#acquired;
    this.calls.push(`acquire#${n} ${ttlMs}`);
    await this.acquireGate;
    if (!this.free) return null;
    const release: ReleaseLock = async () => {
      this.calls.push(`release#${n}`);
    };
    release.extend = async (ms: number) => {
      this.calls.push(`extend#${n} ${ms}`);
      await this.extendGate;
      if (this.down) throw new Error('lock backend unreachable');
      return this.keeps;
    };
    return release;
  }
}

describe('MemoryRefreshLock', () => {
  test('extend keeps the lock for that long from now; it then expires at its exact millisecond', async () => {
    const lock = new MemoryRefreshLock();
    const release = (await lock.acquire('k', 100))!;
    await advance(50);
    expect(await release.extend!(100)).toBe(true);
    // t=149: past the first lifetime (100), within the extended one (150).
    await advance(99);
    expect(await lock.acquire('k', 100)).toBeNull();
    await advance(1);
    expect(await lock.acquire('k', 100)).not.toBeNull();
  });

  test('a lock that expired, even at this millisecond, or that another holder took, cannot be extended', async () => {
    const lock = new MemoryRefreshLock();
    const first = (await lock.acquire('k', 100))!;
    await advance(100);
    expect(await first.extend!(100)).toBe(false);
    const second = (await lock.acquire('k', 100))!;
    expect(await first.extend!(100)).toBe(false);
    // The other holder keeps its own lifetime.
    await advance(99);
    expect(await lock.acquire('k', 100)).toBeNull();
    expect(await second.extend!(100)).toBe(true);
  });

  test('a failure marker lasts its ttl, to the millisecond', async () => {
    const lock = new MemoryRefreshLock();
    await lock.markFailed('k', { at: 1, retryAfter: 2, code: 'ERR_OP_ERROR' }, 50);
    await advance(49);
    expect(await lock.failure('k')).toEqual({ at: 1, retryAfter: 2, code: 'ERR_OP_ERROR' });
    await advance(1);
    expect(await lock.failure('k')).toBeNull();
  });
});

describe('a held lock that can extend', () => {
  test('is renewed every third of its lifetime, never past the hold budget, then expires with it', async () => {
    const lock = new MemoryRefreshLock();
    const asked: number[] = [];
    const acquire = lock.acquire.bind(lock);
    lock.acquire = async (key, ttl) => {
      const release = await acquire(key, ttl);
      const extend = release?.extend;
      if (release !== null && extend !== undefined) release.extend = (ms) => (asked.push(ms), extend(ms));
      return release;
    };
    await acquireLock(lock, 'k', { holdMs: 100, ttlMs: 60, waitMs: 0 });
    await advance(19);
    expect(asked).toEqual([]);
    await advance(1);
    expect(asked).toEqual([60]);
    // t=40, 60, 80: each time the rest of the budget when less than a lifetime is left; none at 100.
    await advance(80);
    expect(asked).toEqual([60, 60, 40, 20]);
    expect(jest.getTimerCount()).toBe(0);
    // The last extension (at 80, for 20) ends with the budget: at 100 the key is free.
    expect(await acquire('k', 10)).not.toBeNull();
  });

  test('a short lifetime is renewed every 10 ms at the most', async () => {
    const lock = new ScriptedLock();
    await acquireLock(lock, 'k', { holdMs: 1_000, ttlMs: 15, waitMs: 0 });
    await advance(9);
    expect(lock.calls).toEqual(['acquire#1 15']);
    await advance(1);
    expect(lock.calls).toEqual(['acquire#1 15', 'extend#1 15']);
  });

  test('keepUntil moves the end of the renewals', async () => {
    const lock = new MemoryRefreshLock();
    const keeper = await acquireLock(lock, 'k', { holdMs: 100, ttlMs: 60, waitMs: 0 });
    keeper.keepUntil(Date.now() + 300);
    await advance(299);
    expect(await lock.acquire('k', 10)).toBeNull();
    await advance(1);
    expect(await lock.acquire('k', 10)).not.toBeNull();
  });

  test('an extension that keeps the lock takes nothing again; a failed one (backend down) is tried again at the next renewal', async () => {
    const lock = new ScriptedLock();
    await acquireLock(lock, 'k', { holdMs: 1_000, ttlMs: 60, waitMs: 0 });
    await advance(20);
    lock.down = true;
    await advance(20);
    lock.down = false;
    await advance(20);
    expect(lock.calls).toEqual(['acquire#1 60', 'extend#1 60', 'extend#1 60', 'extend#1 60']);
  });

  test('a lock the backend lost is taken again when free, and renewed and released from then on', async () => {
    const lock = new ScriptedLock();
    const keeper = await acquireLock(lock, 'k', { holdMs: 1_000, ttlMs: 60, waitMs: 0 });
    lock.keeps = false;
    await advance(20);
    expect(lock.calls).toEqual(['acquire#1 60', 'extend#1 60', 'acquire#2 60']);
    lock.keeps = true;
    await advance(20);
    await keeper.release();
    expect(lock.calls.slice(3)).toEqual(['extend#2 60', 'release#2']);
  });

  test('a lost lock that another holder has is not taken; the keeper goes on asking with its own', async () => {
    const lock = new ScriptedLock();
    await acquireLock(lock, 'k', { holdMs: 1_000, ttlMs: 60, waitMs: 0 });
    lock.keeps = false;
    lock.free = false;
    await advance(40);
    expect(lock.calls).toEqual(['acquire#1 60', 'extend#1 60', 'acquire#2 60', 'extend#1 60', 'acquire#3 60']);
  });
});

describe('releasing a held lock', () => {
  test('stops its renewals at once: no timer is left', async () => {
    const lock = new ScriptedLock();
    const keeper = await acquireLock(lock, 'k', { holdMs: 1_000, ttlMs: 60, waitMs: 0 });
    await advance(20);
    await keeper.release();
    expect(jest.getTimerCount()).toBe(0);
    await advance(1_000);
    expect(lock.calls).toEqual(['acquire#1 60', 'extend#1 60', 'release#1']);
  });

  test('during an extension: the lock is neither taken again nor renewed afterwards', async () => {
    const lock = new ScriptedLock();
    const keeper = await acquireLock(lock, 'k', { holdMs: 1_000, ttlMs: 60, waitMs: 0 });
    const held = gate();
    lock.extendGate = held.opened;
    lock.keeps = false;
    await advance(20);
    await keeper.release();
    held.open();
    await advance(1_000);
    expect(lock.calls).toEqual(['acquire#1 60', 'extend#1 60', 'release#1']);
    expect(jest.getTimerCount()).toBe(0);
  });

  test('while a lost lock is being taken again: the new lock is released as soon as it is had', async () => {
    const lock = new ScriptedLock();
    const keeper = await acquireLock(lock, 'k', { holdMs: 1_000, ttlMs: 60, waitMs: 0 });
    const held = gate();
    lock.keeps = false;
    lock.acquireGate = held.opened;
    await advance(20);
    await keeper.release();
    held.open();
    await advance(1_000);
    expect(lock.calls).toEqual(['acquire#1 60', 'extend#1 60', 'acquire#2 60', 'release#1', 'release#2']);
    expect(jest.getTimerCount()).toBe(0);
  });
});

describe('a lock that cannot extend', () => {
  test('is taken for the whole budget and never renewed, even when its releases could extend', async () => {
    const lock = new ScriptedLock(false);
    const keeper = await acquireLock(lock, 'k', { holdMs: 1_000, ttlMs: 60, waitMs: 0 });
    expect(jest.getTimerCount()).toBe(0);
    keeper.keepUntil(Date.now() + 5_000);
    await advance(2_000);
    await keeper.release();
    expect(lock.calls).toEqual(['acquire#1 1000', 'release#1']);
  });
});
