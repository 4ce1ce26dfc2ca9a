/**
 * One app instance in a process of its own, so a test can kill it (SIGKILL)
 * mid-refresh: the app of `instances.ts` (connect-redis store, RedisRefreshLock,
 * RedisLogoutIndex) on 127.0.0.1:$PORT, with the OP faults of `op-faults.ts`
 * driven by IPC from the parent: `{ fault }` sets the token endpoint fault; the
 * child sends `{ event: 'ready' }` once listening and `{ event: 'held' }` when
 * a token request is held.
 *
 * Env: ISSUER, PORT, REDIS_URL, AUTH_OPTIONS (JSON `auth()` options).
 */
import { RedisStore } from 'connect-redis';
import { createClient } from 'redis';
import { RedisLogoutIndex, RedisRefreshLock } from '../../src/index.js';
import { startApp } from './app.js';
import { RECOMMENDED_CLIENT } from './instances.js';
import { injectOpFaults, type TokenFault } from './op-faults.js';

const { ISSUER, PORT, REDIS_URL, AUTH_OPTIONS } = process.env;
if (!ISSUER || !PORT || !REDIS_URL) throw new Error('instance-process: ISSUER, PORT and REDIS_URL are required');

const faults = injectOpFaults(ISSUER);
faults.onHold = () => process.send?.({ event: 'held' });
process.on('message', (message: { fault?: TokenFault }) => {
  if (message.fault !== undefined) faults.fault = message.fault;
});

const redis = createClient({ ...RECOMMENDED_CLIENT, url: REDIS_URL });
redis.on('error', () => {});
await redis.connect();
const options = JSON.parse(AUTH_OPTIONS ?? '{}') as { session?: Record<string, unknown> } & Record<string, unknown>;
await startApp(ISSUER, Number(PORT), {
  ...options,
  backchannelLogout: { index: new RedisLogoutIndex(redis) },
  refreshLock: new RedisRefreshLock(redis),
  session: { ...options.session, store: new RedisStore({ client: redis }) },
});
process.send?.({ event: 'ready' });
// The parent's end is this process's end.
process.on('disconnect', () => process.exit(0));
