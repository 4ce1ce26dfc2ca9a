// EXAMPLES.md 1, examples/basic.js: every route requires a login.
import express from 'express';
import { auth } from 'express-oidc';

const app = express();

app.use(auth());

app.get('/', (req, res) => {
  res.send(`hello ${req.oidc.user.sub}`);
});

export default app;
