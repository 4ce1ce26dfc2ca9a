// The other two back-channel hooks: logout tokens remembered by the app (onLogoutToken),
// checked on every signed-in request (isLoggedOut) and forgotten at the next login (onLogin).
import express from 'express';
import { auth, requiresAuth } from 'express-oidc';

const app = express();

export const loggedOut = new Set();
export const logins = [];

app.use(
  auth({
    authRequired: false,
    backchannelLogout: {
      onLogoutToken: (token) => {
        loggedOut.add(token.sub);
      },
      isLoggedOut: (req) => loggedOut.has(req.oidc.idTokenClaims.sub),
      onLogin: (req) => {
        logins.push(req.oidc.idTokenClaims.sub);
        loggedOut.delete(req.oidc.idTokenClaims.sub);
      },
    },
  }),
);

app.get('/profile', requiresAuth(), (req, res) => res.send(`hello ${req.oidc.user.sub}`));

export default app;
