// examples/attempt-silent-login.js: a prompt=none login on the first visit.
import express from 'express';
import { auth, attemptSilentLogin } from 'express-oidc';

const app = express();

app.use(
  auth({
    authRequired: false,
  }),
);

app.get('/', attemptSilentLogin(), (req, res) => {
  res.send(req.oidc.isAuthenticated() ? `hello ${req.oidc.user.sub}` : 'anonymous');
});

export default app;
