/**
 * `npm run build && node example/step-up-and-mfa.js`: the embedded demo
 * OpenID Provider (http://localhost:3001) and an app (http://localhost:3000)
 * with a password login that finishes MFA with a one-time code, and a page
 * that asks for multi-factor authentication (step-up) however the user
 * signed in. Described in docs/step-up-and-mfa.md.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import express from 'express';
import { auth, requiresAuth } from 'express-oidc';
import { DEMO_MFA_USER, DEMO_USER, oneTimeCode, startProvider } from './provider.js';

const PORT = Number(process.env.PORT ?? 3000);
const OP_PORT = Number(process.env.OP_PORT ?? 3001);
const baseURL = `http://localhost:${PORT}`;
const clientSecret = randomBytes(24).toString('base64url');
const MULTI_FACTOR = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';

const op = await startProvider({
  issuer: `http://localhost:${OP_PORT}`,
  appBaseURL: baseURL,
  clientID: 'demo-app',
  clientSecret,
  audience: `${baseURL}/api`,
  accessTokenTTL: 300,
});

const escape = (value) => String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (body) => `<!doctype html><meta charset="utf-8"><title>Step-up and MFA</title><body style="font-family:sans-serif">${body}</body>`;

// A fixed-window limiter: 10 attempts per IP and per username in 15 minutes (use Redis with many instances).
const attempts = new Map();
function allow(key) {
  const now = Date.now();
  const entry = attempts.get(key);
  if (entry === undefined || entry.resetAt <= now) {
    attempts.set(key, { count: 1, resetAt: now + 15 * 60_000 });
    return true;
  }
  entry.count += 1;
  return entry.count <= 10;
}

const app = express();
app.use(
  auth({
    issuerBaseURL: op.issuer,
    baseURL,
    clientID: 'demo-app',
    clientSecret,
    secret: randomBytes(32).toString('base64url'),
    authRequired: false,
    authorizationParams: { scope: 'openid profile email offline_access' },
    passwordLogin: {
      throttle: ({ ip, username }) => allow(`ip:${ip}`) && allow(`user:${username.toLowerCase()}`),
    },
  }),
);

app.get('/', (req, res) => {
  const claims = req.oidc.idTokenClaims;
  res.send(
    page(`<h1>Step-up and MFA</h1>
<p>${claims ? `Signed in as ${escape(claims.email)} (acr ${escape(claims.acr ?? '-')}, amr ${escape(JSON.stringify(claims.amr ?? []))})` : 'Not signed in.'}</p>
<form method="post" action="/login/password">
  <input name="username" placeholder="email" value="${escape(DEMO_MFA_USER.username)}">
  <input name="password" type="password" placeholder="password">
  <button>Sign in with a password</button>
</form>
<p><a href="/login">Sign in at the OP</a> · <a href="/transfer">The multi-factor page</a> · <a href="/logout">Sign out</a></p>`),
  );
});

// Only a session proven by a second factor (acr, or Auth0's amr "mfa") within 5 minutes gets in.
app.get('/transfer', requiresAuth({ acrValues: MULTI_FACTOR, maxAge: 300 }), (req, res) => {
  res.send(page(`<h1>Multi-factor page</h1><p>Welcome ${escape(req.oidc.user.name)}: you signed in with a second factor.</p><a href="/">Back</a>`));
});

app.use((err, req, res, next) => {
  // The password was right and the OP wants a one-time code: ask for it, with the pending login's handle.
  if (err.code === 'ERR_MFA_REQUIRED' && err.pendingLogin) {
    return res.status(401).send(
      page(`<h1>One-time code</h1>
${err.retry ? `<p>Wrong code: ${err.attemptsLeft} attempts left.</p>` : ''}
<p><small>Demo only: ${escape(DEMO_MFA_USER.username)}'s authenticator app shows ${oneTimeCode(DEMO_MFA_USER.otpSecret)}.</small></p>
<form method="post" action="/login/password">
  <input type="hidden" name="pendingLogin" value="${escape(err.pendingLogin)}">
  <input name="otp" inputmode="numeric" autocomplete="one-time-code" autofocus>
  <button>Continue</button>
</form>`),
    );
  }
  const status = err.status ?? 500;
  if (status >= 500) console.error(err);
  res.status(status).type('text/plain').send(err.expose ? err.message : 'Something went wrong');
});

const server = http.createServer(app);
await new Promise((resolve) => server.listen(PORT, '127.0.0.1', resolve));
console.log(`Open ${baseURL} (users: ${DEMO_USER.username} and ${DEMO_MFA_USER.username}, password ${DEMO_USER.password}; the OP's login page shows the one-time code)`);
