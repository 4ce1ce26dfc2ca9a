/**
 * Redis and two instances: both copies of the app keep their sessions in
 * Redis (connect-redis) and coordinate token refreshes with
 * `RedisRefreshLock`, so a user signed in on one is signed in on the other.
 * Needs a Redis server: REDIS_URL (default redis://127.0.0.1:6379).
 * `node example/redis.js`
 */
import express from 'express';
import { RedisStore } from 'connect-redis';
import { createClient } from 'redis';
import { auth, RedisRefreshLock, requiresAuth } from 'express-oidc';
import { runExample } from './start.js';

const clients = [];

await runExample({
  title: 'Redis and two instances: sign in on one, you are signed in on the other',
  instances: 2,
  routes: ['/profile'],
  async createApp({ issuerBaseURL, baseURL, clientID, clientSecret, secret }, instance) {
    // One connection per instance, as two processes would have. Without the offline queue a
    // Redis outage fails requests at once (503) instead of queueing them.
    const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
    const redis = createClient({ url, disableOfflineQueue: true });
    let connected = false;
    redis.on('error', (err) => {
      if (connected) return console.error(`redis (instance ${instance}):`, err.message);
      console.error(`Cannot reach Redis at ${url} (${err.message}): start redis-server or set REDIS_URL.`);
      process.exit(1);
    });
    await redis.connect();
    connected = true;
    clients.push(redis);

    const app = express();
    app.use(
      auth({
        issuerBaseURL,
        baseURL, // both instances share one public URL, as behind a load balancer
        clientID,
        clientSecret,
        secret, // ... and one secret, so each reads the other's cookies
        authRequired: false,
        authorizationParams: { scope: 'openid profile email offline_access' },
        session: { store: new RedisStore({ client: redis, prefix: 'example:sess:' }) },
        refreshLock: new RedisRefreshLock(redis),
      }),
    );
    app.get('/profile', requiresAuth(), (req, res) => {
      res.json({ instance, sub: req.oidc.user?.sub, name: req.oidc.user?.name });
    });
    app.get('/', (req, res) => res.json({ instance, signedIn: req.oidc.isAuthenticated() }));
    return app;
  },
  onStop: async () => {
    await Promise.all(clients.map((redis) => redis.quit().catch(() => {})));
  },
});
