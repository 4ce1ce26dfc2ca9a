/**
 * The demo app: sign-in with express-oidc, a profile page, and a page that
 * calls an API with an access token the library keeps fresh.
 */
import express from 'express';
import { auth, requiresAuth } from 'express-oidc';
import { apiRouter } from './api.js';
import { securityHeaders } from './security-headers.js';
import { apiPage, errorPage, homePage, profilePage } from './pages.js';

/** A one-minute cookie set on /logout, so that the home page can say "signed out". */
const SIGNED_OUT_COOKIE = 'demo_signed_out';

/**
 * @param {object} options
 * @param {string} options.issuerBaseURL
 * @param {string} options.baseURL the app's URL as the browser sees it, e.g. 'http://localhost:3000'
 * @param {string} options.clientID
 * @param {string} [options.clientSecret]
 * @param {string} options.secret 32+ characters; signs the session and login cookies
 * @param {string} [options.audience] the API's identifier at the OP; without it the API page explains what is missing
 * @param {boolean} [options.idpLogout] also end the session at the OP on logout
 */
export function createDemoApp({ issuerBaseURL, baseURL, clientID, clientSecret, secret, audience, idpLogout = true }) {
  const app = express();
  app.disable('x-powered-by');
  app.use(securityHeaders());

  // The API comes first: it authenticates requests by bearer token, not by session.
  if (audience) app.use('/api', apiRouter({ issuerBaseURL, audience }));

  // Remembers for the next page that the user chose to sign out (auth() handles /logout itself).
  app.get('/logout', (req, res, next) => {
    res.cookie(SIGNED_OUT_COOKIE, '1', { httpOnly: true, sameSite: 'lax', maxAge: 60_000, path: '/' });
    next();
  });

  app.use(
    auth({
      issuerBaseURL,
      baseURL,
      clientID,
      ...(clientSecret ? { clientSecret } : {}),
      secret,
      authRequired: false,
      idpLogout,
      authorizationParams: {
        // offline_access asks for a refresh token; audience names the API the access token is for.
        scope: 'openid profile email offline_access',
        ...(audience ? { audience } : {}),
      },
    }),
  );

  app.get('/', (req, res) => {
    const signedOut = !req.oidc.isAuthenticated() && (req.headers.cookie ?? '').split(/;\s*/).includes(`${SIGNED_OUT_COOKIE}=1`);
    if (signedOut) res.clearCookie(SIGNED_OUT_COOKIE, { path: '/' });
    res.type('html').send(homePage(req, { signedOut }));
  });

  app.get('/profile', requiresAuth(), (req, res) => {
    res.type('html').send(profilePage(req));
  });

  app.get('/call-api', requiresAuth(), async (req, res, next) => {
    try {
      if (!audience) {
        return res.type('html').send(apiPage(req, { problem: 'No API configured: set AUDIENCE to the identifier of an API your OP issues JWT access tokens for.' }));
      }
      // A token valid for a while yet: refreshed here first if it was about to expire.
      const token = await req.oidc.getAccessToken();
      const api = await fetch(new URL('/api/messages', `${baseURL}/`), {
        headers: { authorization: `Bearer ${token.access_token}` },
        signal: AbortSignal.timeout(5_000),
      });
      const answer = await api.json().catch(() => null);
      res.type('html').send(apiPage(req, { expiresAt: token.expires_at, status: api.status, answer }));
    } catch (err) {
      next(err);
    }
  });

  // Token exchange (docs/token-exchange.md): the user's access token traded for one for the API,
  // with the user's ID token as the actor; the answer shows the new token's claims, never the token.
  app.get('/exchange', requiresAuth(), async (req, res, next) => {
    try {
      const exchanged = await req.oidc.customTokenExchange({
        actorToken: req.oidc.idToken,
        actorTokenType: 'urn:ietf:params:oauth:token-type:id_token',
        ...(audience ? { audience } : {}),
      });
      const claims = JSON.parse(Buffer.from(exchanged.accessToken.split('.')[1] ?? '', 'base64url').toString('utf8') || '{}');
      res.json({ issuedTokenType: exchanged.issuedTokenType, act: exchanged.act, claims });
    } catch (err) {
      next(err);
    }
  });

  // Token Vault: the access token of the user's account at a connected provider, cached in the session.
  app.get('/connection', requiresAuth(), async (req, res, next) => {
    try {
      const { expiresAt, scope, connection } = await req.oidc.getAccessTokenForConnection({ connection: 'demo-calendar' });
      res.json({ connection, scope, expiresAt });
    } catch (err) {
      next(err);
    }
  });

  // Sign-in errors are OidcErrors with a stable code and a status (4xx: the user's browser or input).
  app.use((err, req, res, _next) => {
    const status = Number.isInteger(err?.status) ? err.status : 500;
    if (status >= 500) console.error(err);
    res.status(status).type('html').send(errorPage(req, err));
  });

  return app;
}
