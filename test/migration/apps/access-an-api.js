// EXAMPLES.md 4 and 5, examples/access-an-api.js: the session's access token, refreshed when expired.
import express from 'express';
import { auth } from 'express-oidc';

const app = express();

app.use(
  auth({
    authorizationParams: {
      response_type: 'code', // This requires you to provide a client secret
      scope: 'openid profile email offline_access',
    },
  }),
);

app.get('/', async (req, res) => {
  let { token_type, access_token, isExpired, refresh } = req.oidc.accessToken;
  if (isExpired()) {
    ({ access_token } = await refresh());
  }
  res.json({ token_type, access_token });
});

// The same, refreshing every time, with extra token endpoint parameters of the shapes the
// old typings allow.
app.get('/refresh', async (req, res) => {
  let { access_token, refresh } = req.oidc.accessToken;
  ({ access_token } = await refresh({ tokenEndpointParams: { note: 'migration', attempt: 1, dry: false } }));
  res.json({ access_token });
});

export default app;
