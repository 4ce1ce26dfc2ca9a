// EXAMPLES.md 10, examples/custom-session-store.js: a store factory given `auth`.
import express from 'express';
import memorystore from 'memorystore';
import { auth } from 'express-oidc';

const MemoryStore = memorystore(auth);

const app = express();

export const store = new MemoryStore({
  checkPeriod: 24 * 60 * 1000,
});

app.use(
  auth({
    session: {
      store,
    },
  }),
);

app.get('/', (req, res) => {
  res.send(`hello ${req.oidc.user.sub}`);
});

export default app;
