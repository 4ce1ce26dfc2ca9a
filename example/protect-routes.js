/**
 * Protect routes: public pages for everyone, `requiresAuth()` for signed-in
 * users, and a claim check for some of them. `node example/protect-routes.js`
 */
import express from 'express';
import { auth, claimEquals, requiresAuth } from 'express-oidc';
import { runExample } from './start.js';

await runExample({
  title: 'Protect routes: / is public, /profile needs a login, /verified also a verified email',
  routes: ['/profile', '/verified'],
  createApp({ issuerBaseURL, baseURL, clientID, clientSecret, secret }) {
    const app = express();
    // authRequired: false leaves routes public unless they ask for a login.
    app.use(auth({ issuerBaseURL, baseURL, clientID, clientSecret, secret, authRequired: false }));

    app.get('/', (req, res) => {
      res.json({ signedIn: req.oidc.isAuthenticated(), login: '/login', logout: '/logout' });
    });
    // A browser is sent to log in, and comes back here.
    app.get('/profile', requiresAuth(), (req, res) => {
      res.json({ sub: req.oidc.user?.sub, name: req.oidc.user?.name });
    });
    // Signed in and email_verified: true, else 403 (ERR_CLAIM_CHECK_FAILED).
    app.get('/verified', requiresAuth(), claimEquals('email_verified', true), (req, res) => {
      res.json({ email: req.oidc.user?.email, verified: true });
    });
    return app;
  },
});
