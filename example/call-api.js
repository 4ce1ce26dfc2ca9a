/**
 * Call an API: sign in with an `audience` and `offline_access`, then call the
 * API with `await req.oidc.getAccessToken()`, refreshed when it is about to
 * expire. The API (example/api.js) checks the token. `node example/call-api.js`
 */
import express from 'express';
import { auth, requiresAuth } from 'express-oidc';
import { apiRouter } from './api.js';
import { runExample } from './start.js';

await runExample({
  title: 'Call an API: /call-api calls GET /api/messages with the access token',
  routes: ['/call-api'],
  createApp({ issuerBaseURL, baseURL, clientID, clientSecret, secret, audience }) {
    const app = express();
    // The API authenticates by bearer token, not by session: it comes before auth().
    app.use('/api', apiRouter({ issuerBaseURL, audience }));
    app.use(
      auth({
        issuerBaseURL,
        baseURL,
        clientID,
        clientSecret,
        secret,
        // offline_access asks for a refresh token; audience names the API the access token is for.
        authorizationParams: { scope: 'openid profile email offline_access', audience },
      }),
    );

    app.get('/call-api', requiresAuth(), async (req, res, next) => {
      try {
        const { access_token, token_type, expires_at } = await req.oidc.getAccessToken();
        const api = await fetch(`${baseURL}/api/messages`, {
          headers: { authorization: `${token_type} ${access_token}` },
          signal: AbortSignal.timeout(5_000),
        });
        res.status(api.status).json({ api: await api.json(), tokenExpiresAt: expires_at });
      } catch (err) {
        next(err);
      }
    });
    app.get('/', (req, res) => res.redirect('/call-api'));
    return app;
  },
});
