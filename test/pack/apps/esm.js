/**
 * A consumer app as an ES module (`"type": "module"`): configured by the env
 * vars auth() reads itself (ISSUER_BASE_URL, BASE_URL, CLIENT_ID,
 * CLIENT_SECRET, SECRET), listening on PORT.
 */
import http from 'node:http';
import express from 'express';
import { auth, requiresAuth, isOidcError } from 'express-oidc';

const app = express();
app.use(auth({ authRequired: false, authorizationParams: { scope: 'openid profile email offline_access' } }));
app.get('/profile', requiresAuth(), async (req, res, next) => {
  try {
    const token = await req.oidc.getAccessToken();
    res.json({
      format: 'esm',
      sub: req.oidc.user?.sub,
      name: req.oidc.user?.name,
      hasAccessToken: typeof token.access_token === 'string'
    });
  } catch (err) {
    next(err);
  }
});
app.use((err, _req, res, _next) => {
  res.status(isOidcError(err) ? err.status : 500).json({ code: err.code });
});

const server = http.createServer(app);
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log(`listening on ${process.env.PORT}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
