// EXAMPLES.md 10 with Redis: connect-redis 9 and node-redis 5 (see docs/migration.md for the
// connect-redis 6 factory form), nothing but session.store.
import express from 'express';
import { createClient } from 'redis';
import { RedisStore } from 'connect-redis';
import { auth } from 'express-oidc';

export const redisClient = createClient({ url: process.env.REDIS_URL });
redisClient.on('error', (err) => console.error('redis:', err.message));
await redisClient.connect();

const app = express();

app.use(
  auth({
    authorizationParams: {
      response_type: 'code',
      scope: 'openid profile email offline_access',
    },
    session: {
      store: new RedisStore({ client: redisClient }),
    },
    backchannelLogout: true,
  }),
);

app.get('/', async (req, res) => {
  let { access_token, isExpired, refresh } = req.oidc.accessToken;
  if (isExpired()) {
    ({ access_token } = await refresh());
  }
  res.json({ sub: req.oidc.user.sub, access_token });
});

export default app;
