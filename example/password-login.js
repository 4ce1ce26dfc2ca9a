/**
 * Password login: the app's own sign-in form posts to the library's password
 * login route (`passwordLogin: true`), which signs the user in with the OP's
 * password grant, no redirect to the OP. Wrong credentials get one generic
 * 401 (ERR_LOGIN_FAILED). `node example/password-login.js`
 */
import express from 'express';
import { auth, isOidcError, requiresAuth } from 'express-oidc';
import { escapeHtml } from './pages.js';
import { runExample } from './start.js';

const form = (message = '') => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head>
<body>
<h1>Sign in</h1>
${message ? `<p role="alert">${escapeHtml(message)}</p>` : ''}
<form method="post" action="/login/password">
  <label>Email <input name="username" autocomplete="username"></label>
  <label>Password <input name="password" type="password" autocomplete="current-password"></label>
  <input type="hidden" name="returnTo" value="/profile">
  <button type="submit">Sign in</button>
</form>
</body></html>`;

await runExample({
  title: 'Password login: the form at / posts to /login/password',
  grantTypes: ['password', 'refresh_token', 'authorization_code'],
  routes: ['/', '/profile'],
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
        authorizationParams: { scope: 'openid profile email offline_access' },
        // Mounts POST /login/password; with Auth0, give { realm: 'Username-Password-Authentication' }.
        passwordLogin: true,
      }),
    );
    app.get('/', (req, res) => res.type('html').send(form()));
    app.get('/profile', requiresAuth(), (req, res) => {
      res.json({ sub: req.oidc.user?.sub, name: req.oidc.user?.name, refreshToken: req.oidc.refreshToken !== undefined });
    });
    // A failed sign-in shows the form again with the library's message (4xx messages are safe to show).
    app.use((err, req, res, next) => {
      if (!isOidcError(err) || err.status >= 500) return next(err);
      res.status(err.status).type('html').send(form(err.message));
    });
    return app;
  },
});
