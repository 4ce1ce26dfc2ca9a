/**
 * Custom routes: the app mounts its own login and logout routes (with
 * `res.oidc.login()` / `res.oidc.logout()`) and moves the callback.
 * `node example/custom-routes.js`
 */
import express from 'express';
import { auth, requiresAuth } from 'express-oidc';
import { runExample } from './start.js';

await runExample({
  title: 'Custom routes: /sign-in, /sign-out, and the callback at /auth/callback',
  callbackPath: '/auth/callback',
  routes: ['/sign-in', '/sign-out'],
  createApp({ issuerBaseURL, baseURL, clientID, clientSecret, secret }) {
    const app = express();
    app.use(
      auth({
        issuerBaseURL,
        baseURL,
        clientID,
        clientSecret,
        secret,
        authRequired: false,
        // No /login and /logout: the app's own routes below start them.
        routes: { login: false, logout: false, callback: '/auth/callback', postLogoutRedirect: '/signed-out' },
      }),
    );

    app.get('/sign-in', (req, res) => {
      // Parameters for this login only, and where to land after it.
      res.oidc.login({ returnTo: '/welcome', authorizationParams: { prompt: 'login' } });
    });
    app.get('/sign-out', (req, res) => {
      res.oidc.logout({ returnTo: '/signed-out' });
    });
    // requiresAuth() sends a browser to the login of this auth(): res.oidc.login(), whatever its route.
    app.get('/welcome', requiresAuth(), (req, res) => {
      res.json({ welcome: req.oidc.user?.name, signOut: '/sign-out' });
    });
    app.get('/signed-out', (req, res) => {
      res.json({ signedIn: req.oidc.isAuthenticated(), signIn: '/sign-in' });
    });
    app.get('/', (req, res) => res.redirect(req.oidc.isAuthenticated() ? '/welcome' : '/signed-out'));
    return app;
  },
});
