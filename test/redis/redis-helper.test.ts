/**
 * The test helper that runs redis-server: without the binary the suite fails
 * naming the package to install; a started server answers on 127.0.0.1 and
 * is gone (process and directory) after stop().
 */
import { existsSync } from 'node:fs';
import { findRedisServer, REDIS_MISSING, startRedis } from '../helpers/redis.js';

test('no redis-server anywhere: the error names the apt-get command', () => {
  expect(() => findRedisServer('/nonexistent-dir', '/nonexistent-dir/redis-server')).toThrow(REDIS_MISSING);
  expect(REDIS_MISSING).toBe('redis-server not found: apt-get install -y redis-server');
});

test('a started server answers on 127.0.0.1, and stop() ends it by its pid', async () => {
  const redis = await startRedis();
  const pid = redis.pid;
  try {
    expect(await redis.command('PING')).toBe('PONG');
    expect(existsSync(`/proc/${pid}`)).toBe(true);
  } finally {
    await redis.stop();
  }
  expect(existsSync(`/proc/${pid}`)).toBe(false);
});
