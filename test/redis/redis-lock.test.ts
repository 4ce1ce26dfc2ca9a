/**
 * RedisRefreshLock against a real redis-server: one holder at a time across
 * clients (as across instances), release only by the holder, expiry frees
 * the lock of a holder that died, and an unresponsive Redis fails within the
 * timeout instead of hanging.
 */
import { createClient } from 'redis';
import { RedisRefreshLock } from '../../src/index.js';
import { acquireLock } from '../../src/refresh/index.js';
import { OidcError } from '../../src/errors.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

type Client = ReturnType<typeof createClient>;

let redis: RedisServer;
let a: Client;
let b: Client;
const clientErrors: string[] = [];

async function connect(): Promise<Client> {
  const client = createClient({ url: redis.url, disableOfflineQueue: true });
  client.on('error', (err: Error) => clientErrors.push(err.message));
  await client.connect();
  return client;
}

beforeAll(async () => {
  redis = await startRedis();
  a = await connect();
  b = await connect();
});
afterAll(async () => {
  a?.destroy();
  b?.destroy();
  await redis?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('one holder at a time across clients; the holder releases it', async () => {
  const lockA = new RedisRefreshLock(a);
  const lockB = new RedisRefreshLock(b);
  const release = await lockA.acquire('refresh:s1', 10_000);
  expect(release).not.toBeNull();
  expect(await lockB.acquire('refresh:s1', 10_000)).toBeNull();
  expect(await lockA.acquire('refresh:s1', 10_000)).toBeNull();
  // other keys are independent
  const other = await lockB.acquire('refresh:s2', 10_000);
  expect(other).not.toBeNull();
  await release?.();
  const next = await lockB.acquire('refresh:s1', 10_000);
  expect(next).not.toBeNull();
  await next?.();
  await other?.();
});

test('the key is SET with the prefix, a random token and a PX expiry', async () => {
  const lock = new RedisRefreshLock(a, { prefix: 'app1:' });
  const release = await lock.acquire('refresh:s3', 5_000);
  const token = await a.get('app1:refresh:s3');
  expect(token).toMatch(/^[0-9a-f]{32}$/);
  const ttl = await a.pTTL('app1:refresh:s3');
  expect(ttl).toBeGreaterThan(0);
  expect(ttl).toBeLessThanOrEqual(5_000);
  await release?.();
  expect(await a.exists('app1:refresh:s3')).toBe(0);
});

test('a holder whose lock expired cannot release the next holder\'s lock', async () => {
  const lockA = new RedisRefreshLock(a);
  const lockB = new RedisRefreshLock(b);
  const stale = await lockA.acquire('refresh:s4', 50);
  expect(stale).not.toBeNull();
  let taken: Awaited<ReturnType<RedisRefreshLock['acquire']>> = null;
  // the dead holder's lock frees itself after its ttl
  for (let i = 0; i < 100 && taken === null; i += 1) {
    taken = await lockB.acquire('refresh:s4', 10_000);
    if (taken === null) await sleep(20);
  }
  expect(taken).not.toBeNull();
  await stale?.();
  expect(await a.exists('oidc:lock:refresh:s4')).toBe(1);
  expect(await lockA.acquire('refresh:s4', 10_000)).toBeNull();
  await taken?.();
  expect(await a.exists('oidc:lock:refresh:s4')).toBe(0);
});

test('concurrent acquirers on two clients: exactly one wins', async () => {
  const locks = [new RedisRefreshLock(a), new RedisRefreshLock(b)];
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (locks[i % 2] as RedisRefreshLock).acquire('refresh:s5', 10_000)));
  const winners = results.filter((r) => r !== null);
  expect(winners).toHaveLength(1);
  await winners[0]?.();
});

test('an unresponsive Redis fails acquire within the timeout with a 503; a lock taken late is given back', async () => {
  const lock = new RedisRefreshLock(a, { timeout: 300 });
  redis.pause();
  let err: unknown;
  try {
    err = await lock.acquire('refresh:s6', 10_000).then(() => undefined, (e: unknown) => e);
  } finally {
    redis.resume();
  }
  expect(err).toBeInstanceOf(OidcError);
  expect((err as OidcError).code).toBe('ERR_SESSION_STORE_UNAVAILABLE');
  expect((err as OidcError).status).toBe(503);
  // the SET was queued on the socket and ran once Redis woke up: it must not keep the session locked
  let exists = 1;
  for (let i = 0; i < 100 && exists === 1; i += 1) {
    exists = await b.exists('oidc:lock:refresh:s6');
    if (exists === 1) await sleep(20);
  }
  expect(exists).toBe(0);
  const release = await new RedisRefreshLock(b).acquire('refresh:s6', 10_000);
  expect(release).not.toBeNull();
  await release?.();
});

test('a client that is offline rejects at once with a 503', async () => {
  const offline = createClient({ url: redis.url, disableOfflineQueue: true });
  offline.on('error', () => {});
  // never connected: node-redis refuses commands of a closed client
  const err = await new RedisRefreshLock(offline).acquire('refresh:s7', 1_000).then(() => undefined, (e: unknown) => e);
  expect((err as OidcError).code).toBe('ERR_SESSION_STORE_UNAVAILABLE');
});

describe('short lifetime, extended while held', () => {
  test('extend keeps the lock for its holder only, and says false once the lock expired', async () => {
    const lock = new RedisRefreshLock(a);
    expect(lock.extendable).toBe(true);
    const release = await lock.acquire('refresh:e1', 200);
    expect(await release?.extend?.(5_000)).toBe(true);
    expect(await a.pTTL('oidc:lock:refresh:e1')).toBeGreaterThan(1_000);
    await release?.();
    expect(await release?.extend?.(5_000)).toBe(false);
    expect(await a.exists('oidc:lock:refresh:e1')).toBe(0);
    // an expired lock taken by another holder is not extended by the old one
    const stale = await lock.acquire('refresh:e2', 50);
    await sleep(80);
    const next = await new RedisRefreshLock(b).acquire('refresh:e2', 5_000);
    expect(next).not.toBeNull();
    expect(await stale?.extend?.(5_000)).toBe(false);
    await next?.();
  });

  test('a held lock outlives its lifetime while its holder works, and frees itself once the holder stops extending', async () => {
    const lock = new RedisRefreshLock(a);
    const other = new RedisRefreshLock(b);
    const keeper = await acquireLock(lock, 'refresh:e3', { holdMs: 10_000, ttlMs: 900, waitMs: 100 });
    // three lifetimes later it is still held (extended every 300 ms: margin for a loaded machine)
    for (let i = 0; i < 9; i += 1) {
      await sleep(300);
      expect(await other.acquire('refresh:e3', 5_000)).toBeNull();
    }
    await keeper.release();
    const next = await other.acquire('refresh:e3', 5_000);
    expect(next).not.toBeNull();
    await next?.();

    // a holder bounded by holdMs stops extending: the lock expires within one lifetime after
    const bounded = await acquireLock(lock, 'refresh:e4', { holdMs: 400, ttlMs: 300, waitMs: 100 });
    // it lives until holdMs and at most one lifetime more
    const started = Date.now();
    let taken: Awaited<ReturnType<RedisRefreshLock['acquire']>> = null;
    while (taken === null && Date.now() - started < 3_000) {
      taken = await other.acquire('refresh:e4', 5_000);
      if (taken === null) await sleep(20);
    }
    expect(taken).not.toBeNull();
    expect(Date.now() - started).toBeLessThan(400 + 300 + 1_000);
    await taken?.();
    await bounded.release();
  });

  test('the failure marker sits next to the lock and expires', async () => {
    const lock = new RedisRefreshLock(a, { prefix: 'app2:' });
    expect(await lock.failure('refresh:f1')).toBeNull();
    await lock.markFailed('refresh:f1', { at: 1, retryAfter: 2, code: 'ERR_OP_UNREACHABLE' }, 200);
    expect(await a.exists('app2:refresh:f1:failed')).toBe(1);
    expect(await new RedisRefreshLock(b, { prefix: 'app2:' }).failure('refresh:f1')).toEqual({ at: 1, retryAfter: 2, code: 'ERR_OP_UNREACHABLE' });
    await sleep(300);
    expect(await lock.failure('refresh:f1')).toBeNull();
    // a marker of another shape is ignored
    await a.set('app2:refresh:f2:failed', 'not json');
    expect(await lock.failure('refresh:f2')).toBeNull();
  });
});
