/**
 * The apps under load. Each case is one Express app, run in a process of its
 * own (app.js). Every app answers `GET <route>` with the same JSON user.
 *
 * `build` imports what it needs itself, so that reading this list (run.js
 * does) loads none of the libraries under test.
 */
import { APP_SECRET, CLIENT_ID, CLIENT_SECRET, USER } from './fixtures.js';

/** express-oidc's default identity claim filter, applied by the bare session app too. */
const PROTOCOL_CLAIMS = new Set(['aud', 'iss', 'iat', 'exp', 'nbf', 'nonce', 'azp', 'auth_time', 's_hash', 'at_hash', 'c_hash', 'sid']);

async function express() {
  return (await import('express')).default;
}

async function redisStore(redisUrl, prefix) {
  if (redisUrl === undefined) throw new Error('this case needs the Redis URL');
  const { createClient } = await import('redis');
  const { RedisStore } = await import('connect-redis');
  const client = createClient({ url: redisUrl });
  client.on('error', (err) => console.error(`redis client (${prefix}):`, err.message));
  await client.connect();
  return new RedisStore({ client, prefix });
}

/** (a) No session at all. */
async function bareApp() {
  const app = (await express())();
  app.get('/profile', (_req, res) => res.json(USER.claims));
  return app;
}

/**
 * (b) express-session with a signed-in session holding what express-oidc
 * stores (same fields, same token sizes: it logs in against the same OP with
 * openid-client), and a route that reads the access token and returns the
 * user from the ID token.
 */
async function sessionApp({ issuer, baseURL, redisUrl }) {
  const app = (await express())();
  const { default: session } = await import('express-session');
  const oidc = await import('openid-client');
  const store = redisUrl === undefined ? undefined : await redisStore(redisUrl, 'bench-b:');
  app.use(session({ secret: APP_SECRET, resave: false, saveUninitialized: false, ...(store === undefined ? {} : { store }) }));

  let configuration;
  const discover = async () =>
    (configuration ??= await oidc.discovery(new URL(issuer), CLIENT_ID, CLIENT_SECRET, undefined, { execute: [oidc.allowInsecureRequests] }));
  const redirectUri = `${baseURL}/callback`;

  app.get('/login', async (req, res) => {
    const config = await discover();
    const login = { state: oidc.randomState(), nonce: oidc.randomNonce(), verifier: oidc.randomPKCECodeVerifier() };
    req.session.login = login;
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid profile email',
      state: login.state,
      nonce: login.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(login.verifier),
      code_challenge_method: 'S256',
    });
    res.redirect(url.href);
  });

  app.get('/callback', async (req, res) => {
    const login = req.session.login;
    if (login === undefined) return res.status(400).json({ error: 'no login in progress' });
    const tokens = await oidc.authorizationCodeGrant(await discover(), new URL(req.originalUrl, baseURL), {
      pkceCodeVerifier: login.verifier,
      expectedState: login.state,
      expectedNonce: login.nonce,
      idTokenExpected: true,
    });
    await new Promise((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
    const now = Math.floor(Date.now() / 1000);
    req.session.oidc = {
      id_token: tokens.id_token,
      access_token: tokens.access_token,
      token_type: 'Bearer',
      expires_at: now + tokens.expires_in,
      refresh_token: tokens.refresh_token,
      scope: tokens.scope,
      v: 1,
      created_at: now,
      last_seen: now,
      issued_at: now,
    };
    res.redirect('/');
  });

  app.get('/profile', (req, res) => {
    const data = req.session.oidc;
    if (data === undefined) return res.status(401).json({ error: 'login required' });
    if (typeof data.access_token !== 'string') return res.status(500).json({ error: 'no access token' });
    const claims = JSON.parse(Buffer.from(data.id_token.split('.')[1], 'base64url').toString('utf8'));
    const user = {};
    for (const key in claims) if (!PROTOCOL_CLAIMS.has(key)) user[key] = claims[key];
    res.json(user);
  });
  return app;
}

/** (c), (e), (f): express-oidc with its defaults (plus the options given). */
async function expressOidcApp({ issuer, baseURL, redisUrl }, options = {}) {
  const app = (await express())();
  const { auth, requiresAuth } = await import('express-oidc');
  const store = redisUrl === undefined ? undefined : await redisStore(redisUrl, 'bench-f:');
  app.use(auth({
    issuerBaseURL: issuer,
    baseURL,
    clientID: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    secret: APP_SECRET,
    authRequired: false,
    ...(store === undefined ? {} : { session: { store } }),
    ...options,
  }));
  app.get('/profile', requiresAuth(), (req, res) => {
    if (typeof req.oidc.accessToken?.access_token !== 'string') return res.status(500).json({ error: 'no access token' });
    res.json(req.oidc.user);
  });
  app.get('/public', (req, res) => res.json(req.oidc.user ?? USER.claims));
  return app;
}

/**
 * (d) express-openid-connect with its defaults, except `response_type: 'code'`:
 * its default (`id_token`) gets no access token, and the route reads one.
 */
async function expressOpenidConnectApp({ issuer, baseURL }) {
  const app = (await express())();
  // CommonJS: its exports are on the default export.
  const { auth, requiresAuth } = (await import('express-openid-connect')).default;
  app.use(auth({
    issuerBaseURL: issuer,
    baseURL,
    clientID: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    secret: APP_SECRET,
    authRequired: false,
    authorizationParams: { response_type: 'code' },
  }));
  app.get('/profile', requiresAuth(), (req, res) => {
    if (typeof req.oidc.accessToken?.access_token !== 'string') return res.status(500).json({ error: 'no access token' });
    res.json(req.oidc.user);
  });
  return app;
}

/**
 * The cases, in the order they are run (and interleaved; the two sides of each
 * ratio run next to each other). `cookie` names the session cookie the load
 * carries (none: anonymous); `login` whether the process needs a signed-in
 * session first.
 */
export const CASES = [
  { key: 'a', title: 'bare Express route, JSON user', route: '/profile', login: false, cookie: undefined, build: bareApp },
  { key: 'e', title: 'express-oidc anonymous, unprotected route', route: '/public', login: false, cookie: undefined, build: (ctx) => expressOidcApp({ ...ctx, redisUrl: undefined }) },
  { key: 'b', title: 'Express + express-session (MemoryStore)', route: '/profile', login: true, cookie: 'connect.sid', build: (ctx) => sessionApp({ ...ctx, redisUrl: undefined }) },
  { key: 'c', title: 'express-oidc requiresAuth() (default store)', route: '/profile', login: true, cookie: 'appSession', build: (ctx) => expressOidcApp({ ...ctx, redisUrl: undefined }) },
  { key: 'd', title: 'express-openid-connect requiresAuth()', route: '/profile', login: true, cookie: 'appSession', build: expressOpenidConnectApp },
  { key: 'b_redis', title: 'b with connect-redis', route: '/profile', login: true, cookie: 'connect.sid', redis: true, build: sessionApp },
  { key: 'f', title: 'c with connect-redis', route: '/profile', login: true, cookie: 'appSession', redis: true, build: expressOidcApp },
];

/** Processes that are not loaded: they count OP requests per login and watch the heap over many logins. */
export const LOGIN_APPS = [
  { key: 'logins', title: 'express-oidc defaults', build: (ctx) => expressOidcApp({ ...ctx, redisUrl: undefined }) },
  { key: 'logins_par', title: 'express-oidc with PAR', build: (ctx) => expressOidcApp({ ...ctx, redisUrl: undefined }, { pushedAuthorizationRequests: true }) },
];
