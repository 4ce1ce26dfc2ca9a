'use strict';
/**
 * A CommonJS app: `require('express-oidc')` loads the ES module package
 * through Node's require(esm) (Node 20.19 and later). Configured by the env
 * vars auth() reads itself (ISSUER_BASE_URL, BASE_URL, CLIENT_ID,
 * CLIENT_SECRET, SECRET); EXPRESS_MAJOR=4 uses Express 4.
 */
const http = require('node:http');
const express = require(process.env.EXPRESS_MAJOR === '4' ? 'express4' : 'express');
const { auth, requiresAuth, OidcError } = require('express-oidc');

const app = express();
app.use(auth({ authRequired: false, authorizationParams: { scope: 'openid profile email offline_access' } }));
app.get('/profile', requiresAuth(), async (req, res, next) => {
  try {
    const token = await req.oidc.getAccessToken();
    res.json({
      sub: req.oidc.user.sub,
      hasAccessToken: typeof token.access_token === 'string',
      express: require(process.env.EXPRESS_MAJOR === '4' ? 'express4/package.json' : 'express/package.json').version,
    });
  } catch (err) {
    next(err);
  }
});
app.use((err, _req, res, _next) => {
  res.status(err.status ?? 500).json({ code: err.code, isOidcError: err instanceof OidcError });
});

const port = Number(process.env.PORT);
const server = http.createServer(app);
server.listen(port, '127.0.0.1', () => console.log(`listening on ${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
