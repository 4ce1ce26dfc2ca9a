/**
 * The LogoutIndex contract, run against the in-process index and against
 * RedisLogoutIndex on a real redis-server; then what only Redis gives: two
 * instances (two clients) see each other's entries and replays.
 */
import { createClient } from 'redis';
import { MemoryLogoutIndex, RedisLogoutIndex, type LogoutIndex } from '../../src/index.js';
import { OidcError } from '../../src/errors.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

type Client = ReturnType<typeof createClient>;

let redis: RedisServer;
let a: Client;
let b: Client;

async function connect(): Promise<Client> {
  const client = createClient({ url: redis.url, disableOfflineQueue: true });
  client.on('error', () => {});
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
let n = 0;
const unique = (name: string) => `${name}-${(n += 1)}`;

describe.each([
  ['MemoryLogoutIndex', () => new MemoryLogoutIndex() as LogoutIndex],
  ['RedisLogoutIndex', () => new RedisLogoutIndex(a) as LogoutIndex],
])('%s', (_name, make) => {
  test('take returns every session filed under a key, once', async () => {
    const index = make();
    const sid = unique('sid:op');
    await index.add([sid, 'sub:alice'], 'session-1', 60);
    await index.add([sid], 'session-2', 60);
    expect((await index.take(sid)).sort()).toEqual(['session-1', 'session-2']);
    expect(await index.take(sid)).toEqual([]);
    expect(await index.take(unique('sid:unknown'))).toEqual([]);
  });

  test('expired entries are not returned', async () => {
    const index = make();
    const key = unique('sub:bob');
    await index.add([key], 'short', 1);
    await index.add([key], 'long', 60);
    await sleep(1_100);
    expect(await index.take(key)).toEqual(['long']);
  });

  test('claimOnce is true the first time only', async () => {
    const index = make();
    const jti = unique('jti');
    expect(await index.claimOnce(jti, 60)).toBe(true);
    expect(await index.claimOnce(jti, 60)).toBe(false);
    expect(await index.claimOnce(unique('jti'), 60)).toBe(true);
  });

  test('a claim is forgotten after its ttl', async () => {
    const index = make();
    const jti = unique('jti');
    expect(await index.claimOnce(jti, 1)).toBe(true);
    await sleep(1_100);
    expect(await index.claimOnce(jti, 1)).toBe(true);
  });
});

describe('RedisLogoutIndex only', () => {
  test('entries filed by one instance are taken by another; a jti claimed by one is a replay for the other', async () => {
    const onA = new RedisLogoutIndex(a);
    const onB = new RedisLogoutIndex(b);
    const sid = unique('sid:shared');
    await onA.add([sid], 'created-on-a', 60);
    expect(await onB.take(sid)).toEqual(['created-on-a']);
    const jti = unique('jti');
    expect(await onA.claimOnce(jti, 60)).toBe(true);
    expect(await onB.claimOnce(jti, 60)).toBe(false);
  });

  test('keys carry the prefix and expire with their longest entry; expired members are pruned on add', async () => {
    const index = new RedisLogoutIndex(a, { prefix: 'app1:' });
    const sid = unique('sid:ttl');
    await index.add([sid], 'first', 1);
    const key = `app1:key:${sid}`;
    const firstTtl = await a.pTTL(key);
    expect(firstTtl).toBeGreaterThan(0);
    expect(firstTtl).toBeLessThanOrEqual(1_000);
    await index.add([sid], 'second', 30);
    expect(await a.pTTL(key)).toBeGreaterThan(1_000);
    // a shorter entry never shortens the key's life
    await index.add([sid], 'third', 1);
    expect(await a.pTTL(key)).toBeGreaterThan(1_000);
    await sleep(1_100);
    await index.add([sid], 'fourth', 30);
    expect((await a.zRange(key, 0, -1)).sort()).toEqual(['fourth', 'second']);
    const jti = unique('jti');
    await index.claimOnce(jti, 30);
    expect(await a.get(`app1:seen:${jti}`)).toBe('1');
    expect(await a.ttl(`app1:seen:${jti}`)).toBeGreaterThan(0);
  });

  test('an unresponsive Redis fails each call within the timeout with a 503', async () => {
    const index = new RedisLogoutIndex(a, { timeout: 300 });
    redis.pause();
    let errors: unknown[];
    try {
      errors = await Promise.all([
        index.add(['sid:x'], 'session', 60).then(() => undefined, (e: unknown) => e),
        index.take('sid:x').then(() => undefined, (e: unknown) => e),
        index.claimOnce('jti-x', 60).then(() => undefined, (e: unknown) => e),
      ]);
    } finally {
      redis.resume();
    }
    for (const err of errors) {
      expect(err).toBeInstanceOf(OidcError);
      expect((err as OidcError).code).toBe('ERR_SESSION_STORE_UNAVAILABLE');
      expect((err as OidcError).status).toBe(503);
    }
  });
});
