/**
 * Machine to machine: the app calls an API as itself (no user), with a
 * client credentials token that `req.oidc.clientCredentials()` caches until
 * shortly before it expires. `node example/m2m.js`
 */
import express from 'express';
import { auth } from 'express-oidc';
import { apiRouter } from './api.js';
import { runExample } from './start.js';

await runExample({
  title: 'Machine to machine: /report calls the API with a client credentials token',
  grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'],
  routes: ['/report'],
  createApp({ issuerBaseURL, baseURL, clientID, clientSecret, secret, audience }) {
    const app = express();
    app.use('/api', apiRouter({ issuerBaseURL, audience }));
    app.use(auth({ issuerBaseURL, baseURL, clientID, clientSecret, secret, authRequired: false }));

    // No login needed: the token is the app's own.
    app.get('/report', async (req, res, next) => {
      try {
        const { accessToken, tokenType } = await req.oidc.clientCredentials({ audience });
        const api = await fetch(`${baseURL}/api/messages`, {
          headers: { authorization: `${tokenType} ${accessToken}` },
          signal: AbortSignal.timeout(5_000),
        });
        res.status(api.status).json({ api: await api.json() });
      } catch (err) {
        next(err);
      }
    });
    app.get('/', (req, res) => res.redirect('/report'));
    return app;
  },
});
