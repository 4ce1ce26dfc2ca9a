import { MemoryRefreshLock, withLock, type RefreshLock } from '../../src/refresh/index.js';
import { OidcError } from '../../src/errors.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('MemoryRefreshLock', () => {
  test('one holder at a time per key; other keys are independent', async () => {
    const lock = new MemoryRefreshLock();
    const release = await lock.acquire('refresh:a', 10_000);
    expect(release).not.toBeNull();
    expect(await lock.acquire('refresh:a', 10_000)).toBeNull();
    expect(await lock.acquire('refresh:b', 10_000)).not.toBeNull();
    await release!();
    expect(await lock.acquire('refresh:a', 10_000)).not.toBeNull();
  });

  test('a holder that never releases frees the key after its ttl, and its late release does not free the next holder', async () => {
    const lock = new MemoryRefreshLock();
    const stale = await lock.acquire('k', 30);
    await sleep(50);
    const next = await lock.acquire('k', 10_000);
    expect(next).not.toBeNull();
    await stale!();
    expect(await lock.acquire('k', 10_000)).toBeNull();
    await next!();
  });
});

describe('withLock', () => {
  test('runs work one at a time for a key, in turn', async () => {
    const lock = new MemoryRefreshLock();
    const order: string[] = [];
    let inside = 0;
    let maxInside = 0;
    const work = (name: string) => async () => {
      inside += 1;
      maxInside = Math.max(maxInside, inside);
      order.push(`start ${name}`);
      await sleep(20);
      order.push(`end ${name}`);
      inside -= 1;
      return name;
    };
    const results = await Promise.all(['a', 'b', 'c'].map((n) => withLock(lock, 'k', { holdMs: 5_000, waitMs: 5_000 }, work(n))));
    expect(results).toEqual(['a', 'b', 'c']);
    expect(maxInside).toBe(1);
    expect(order).toHaveLength(6);
  });

  test('releases the lock when the work throws', async () => {
    const lock = new MemoryRefreshLock();
    await expect(withLock(lock, 'k', { holdMs: 5_000, waitMs: 100 }, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(withLock(lock, 'k', { holdMs: 5_000, waitMs: 100 }, async () => 'next')).resolves.toBe('next');
  });

  test('gives up with ERR_REFRESH_LOCK_TIMEOUT (503) when the lock stays busy', async () => {
    const lock = new MemoryRefreshLock();
    const held = await lock.acquire('k', 10_000);
    const attempt = withLock(lock, 'k', { holdMs: 5_000, waitMs: 60 }, async () => 'never');
    await expect(attempt).rejects.toBeInstanceOf(OidcError);
    await expect(attempt).rejects.toMatchObject({ code: 'ERR_REFRESH_LOCK_TIMEOUT', status: 503 });
    await held!();
  });

  test('a lock that fails (e.g. its backend is down) is a typed 503, not a crash', async () => {
    const broken: RefreshLock = { acquire: async () => Promise.reject(new Error('connection refused to lock backend')) };
    await expect(withLock(broken, 'k', { holdMs: 5_000, waitMs: 60 }, async () => 'never')).rejects.toMatchObject({
      code: 'ERR_REFRESH_LOCK_TIMEOUT',
      status: 503,
    });
  });
});

describe('lifetimes', () => {
  test('a lock that cannot extend is taken for the whole budget; one that can, for its short lifetime', async () => {
    const asked: number[] = [];
    const plain: RefreshLock = { acquire: async (_key, ttl) => (asked.push(ttl), async () => {}) };
    await withLock(plain, 'k', { holdMs: 5_000, ttlMs: 300, waitMs: 60 }, async () => 'done');
    expect(asked).toEqual([5_000]);

    const memory = new MemoryRefreshLock();
    const acquire = memory.acquire.bind(memory);
    memory.acquire = async (key, ttl) => (asked.push(ttl), acquire(key, ttl));
    await withLock(memory, 'k', { holdMs: 5_000, ttlMs: 300, waitMs: 60 }, async () => 'done');
    expect(asked).toEqual([5_000, 300]);
  });

  test('withLock extends the lock while the work runs past its lifetime', async () => {
    const lock = new MemoryRefreshLock();
    const work = withLock(lock, 'k', { holdMs: 5_000, ttlMs: 60, waitMs: 60 }, async () => {
      await sleep(250);
      return 'done';
    });
    await sleep(150);
    expect(await lock.acquire('k', 1_000)).toBeNull();
    await expect(work).resolves.toBe('done');
    expect(await lock.acquire('k', 1_000)).not.toBeNull();
  });

  test('the memory lock keeps failure markers until they expire', async () => {
    const lock = new MemoryRefreshLock();
    await lock.markFailed('k', { at: 1, retryAfter: 2, code: 'ERR_OP_ERROR' }, 50);
    expect(await lock.failure('k')).toEqual({ at: 1, retryAfter: 2, code: 'ERR_OP_ERROR' });
    await sleep(70);
    expect(await lock.failure('k')).toBeNull();
  });
});
