// README and EXAMPLES.md 9: afterCallback checks and extends the session, getLoginState
// carries app state through the login.
import express from 'express';
import { decodeJwt } from 'jose';
import { auth, requiresAuth } from 'express-oidc';

const app = express();

app.use(
  auth({
    authRequired: false,
    getLoginState(req, options) {
      return { returnTo: options.returnTo || req.originalUrl, campaign: req.query.campaign };
    },
    afterCallback: (req, res, session, decodedState) => {
      const claims = decodeJwt(session.id_token);
      if (claims.email !== 'alice@example.com') {
        throw new Error('User is not allowed here');
      }
      return { ...session, campaign: decodedState.campaign, loginHost: req.hostname };
    },
  }),
);

app.get('/promo', (req, res) => res.oidc.login({ returnTo: '/profile' }));

app.get('/profile', requiresAuth(), (req, res) => {
  res.json({ sub: req.oidc.user.sub, campaign: req.session.oidc.campaign, loginHost: req.session.oidc.loginHost });
});

export default app;
