// EXAMPLES.md 6, examples/userinfo.js.
import express from 'express';
import { auth } from 'express-oidc';

const app = express();

app.use(auth());

app.get('/', async (req, res) => {
  const userInfo = await req.oidc.fetchUserInfo();
  res.json(userInfo);
});

export default app;
