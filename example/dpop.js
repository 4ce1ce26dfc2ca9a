/**
 * DPoP (RFC 9449): the app's tokens are bound to a key pair it holds, so a
 * stolen access or refresh token is useless without it. `useDPoP: true`
 * generates the key at start-up; the library signs a proof for every call
 * (here, the OP's userinfo endpoint). `node example/dpop.js`
 */
import express from 'express';
import { auth, requiresAuth } from 'express-oidc';
import { runExample } from './start.js';

await runExample({
  title: 'DPoP: /profile shows the token type and fetches userinfo with a DPoP proof',
  routes: ['/profile'],
  createApp({ issuerBaseURL, baseURL, clientID, clientSecret, secret }) {
    const app = express();
    app.use(
      auth({
        issuerBaseURL,
        baseURL,
        clientID,
        clientSecret,
        secret,
        authorizationParams: { scope: 'openid profile email offline_access' },
        useDPoP: true,
      }),
    );
    app.get('/profile', requiresAuth(), async (req, res, next) => {
      try {
        res.json({ tokenType: req.oidc.accessToken?.token_type, userinfo: await req.oidc.fetchUserInfo() });
      } catch (err) {
        next(err);
      }
    });
    app.get('/', (req, res) => res.redirect('/profile'));
    return app;
  },
});
