// EXAMPLES.md 8 and the README: logout at the OP too, a custom logout route with returnTo
// and logoutParams.
import express from 'express';
import { auth, requiresAuth } from 'express-oidc';

const app = express();

app.use(
  auth({
    authRequired: false,
    idpLogout: true,
    logoutParams: { ui_locales: 'en' },
    routes: { logout: false },
  }),
);

app.get('/', (req, res) => res.send(req.oidc.isAuthenticated() ? 'signed in' : 'signed out'));
app.get('/profile', requiresAuth(), (req, res) => res.send(`hello ${req.oidc.user.sub}`));

app.get('/logout', (req, res) => res.oidc.logout({ returnTo: '/', logoutParams: { ui_locales: null, tracking: 1 } }));

export default app;
