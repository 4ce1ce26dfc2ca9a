// EXAMPLES.md 11, examples/backchannel-logout.js: the built-in back-channel logout.
import express from 'express';
import memorystore from 'memorystore';
import { auth, requiresAuth } from 'express-oidc';

const MemoryStore = memorystore(auth);

const app = express();

app.use(
  auth({
    authRequired: false,
    idpLogout: true,
    session: {
      store: new MemoryStore(),
    },
    backchannelLogout: true,
  }),
);

app.get('/', async (req, res) => {
  if (req.oidc.isAuthenticated()) {
    res.send(`hello ${req.oidc.user.sub} <a href="/logout">logout</a>`);
  } else {
    res.send('<a href="/login">login</a>');
  }
});

app.get('/profile', requiresAuth(), (req, res) => res.send(`hello ${req.oidc.user.sub}`));

export default app;
