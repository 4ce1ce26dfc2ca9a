/**
 * A small OpenID Provider for the demo, built on oidc-provider: one client
 * (the demo app), one user, a login page, consent granted automatically, a
 * short access-token lifetime so refreshes are easy to watch, and an API
 * (`audience`) whose access tokens are JWTs any resource server can verify.
 *
 * Not for production: keys, sessions and grants live in memory and are new
 * at every start.
 */
import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import express from 'express';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { errors } from 'oidc-provider';
import { FEDERATED_CONNECTION_GRANT, TOKEN_EXCHANGE_GRANT, registerTokenExchange } from './token-exchange.js';

/** The one account of the demo OP. */
export const DEMO_USER = Object.freeze({
  sub: 'demo-user-1',
  username: 'demo@example.com',
  password: 'demo-password',
  name: 'Dana Demo',
  nickname: 'dana',
  email: 'demo@example.com',
});

/**
 * A second account with a one-time-code factor (an authenticator app with
 * this base32 secret; the login page shows the current code). It signs in
 * with the password and the code: at the login page, or through the password
 * grant, which answers `mfa_required` and takes the code with Auth0's
 * `mfa-otp` grant.
 */
export const DEMO_MFA_USER = Object.freeze({
  sub: 'demo-user-2',
  username: 'mfa@example.com',
  password: 'demo-password',
  name: 'Max Multifactor',
  nickname: 'max',
  email: 'mfa@example.com',
  otpSecret: 'JBSWY3DPEHPK3PXP',
});

const USERS = [DEMO_USER, DEMO_MFA_USER];
const PAPE_MULTI_FACTOR = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';
const MFA_OTP_GRANT = 'http://auth0.com/oauth/grant-type/mfa-otp';

/** The RFC 6238 code (6 digits, 30 s) of a base32 secret, as authenticator apps show it. */
export function oneTimeCode(secret, time = Date.now()) {
  const bits = [...secret].map((c) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'.indexOf(c).toString(2).padStart(5, '0')).join('');
  const key = Buffer.from(bits.match(/.{8}/g).map((byte) => Number.parseInt(byte, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(time / 30_000)));
  const mac = createHmac('sha1', key).update(counter).digest();
  return String((mac.readUInt32BE(mac[19] & 0x0f) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

/** This step's code or the previous one (typing takes a moment). */
const codeMatches = (user, code) => [0, -30_000].some((skew) => oneTimeCode(user.otpSecret, Date.now() + skew) === code);

async function findAccount(_ctx, sub) {
  const user = USERS.find((u) => u.sub === sub);
  if (user === undefined) return undefined;
  return {
    accountId: sub,
    claims: async () => ({
      sub,
      name: user.name,
      nickname: user.nickname,
      email: user.email,
      email_verified: true,
      updated_at: 1_700_000_000,
    }),
  };
}

/** What the demo OP knows: its scopes and the claims each one releases. */
const CLAIMS = {
  // acr and amr tell the app how the user signed in (step-up routes check them).
  openid: ['sub', 'acr', 'amr'],
  profile: ['name', 'nickname', 'updated_at'],
  email: ['email', 'email_verified'],
};

/** Scopes the demo API (the resource server behind `audience`) knows. */
export const API_SCOPES = 'read:messages';

const escapeHtml = (value) =>
  String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

function page(title, body) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; background: #f1f3f7; margin: 0; }
  main { max-width: 22rem; margin: 4rem auto; background: #fff; padding: 2rem; border-radius: 10px; box-shadow: 0 2px 12px #0002; }
  h1 { font-size: 1.3rem; margin-top: 0; }
  label { display: block; margin: .8rem 0 .2rem; font-size: .9rem; }
  input { width: 100%; box-sizing: border-box; padding: .5rem; font-size: 1rem; }
  button { margin-top: 1.2rem; width: 100%; padding: .6rem; font-size: 1rem; background: #3b5bdb; color: #fff; border: 0; border-radius: 6px; cursor: pointer; }
  .hint { background: #fff9db; padding: .5rem .7rem; border-radius: 6px; font-size: .9rem; }
  .error { color: #c92a2a; }
</style>
</head>
<body><main>
${body}
</main></body>
</html>`;
}

function loginPage(uid, error) {
  return page(
    'Sign in - demo OpenID Provider',
    `<h1>Sign in to the demo provider</h1>
<p class="hint">Demo user: <b>${escapeHtml(DEMO_USER.username)}</b> / <b>${escapeHtml(DEMO_USER.password)}</b><br>
With a one-time code: <b>${escapeHtml(DEMO_MFA_USER.username)}</b> / <b>${escapeHtml(DEMO_MFA_USER.password)}</b>, code <b>${oneTimeCode(DEMO_MFA_USER.otpSecret)}</b></p>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login" autocomplete="off">
  <label for="username">Email</label>
  <input id="username" name="username" type="text" autofocus>
  <label for="password">Password</label>
  <input id="password" name="password" type="password">
  <label for="otp">One-time code (when your account has one)</label>
  <input id="otp" name="otp" type="text" inputmode="numeric">
  <button type="submit">Sign in</button>
</form>`,
  );
}

/**
 * Starts the demo OP on 127.0.0.1 and returns its issuer and a `close()`.
 *
 * @param {object} options
 * @param {string} options.issuer e.g. 'http://localhost:3001' (its port is the one listened on)
 * @param {string} options.appBaseURL the demo app, e.g. 'http://localhost:3000'
 * @param {string} options.clientID
 * @param {string} options.clientSecret
 * @param {string} options.audience identifier of the demo API
 * @param {number} options.accessTokenTTL seconds
 * @param {string} [options.callbackPath] the app's callback route (default '/callback')
 * @param {string[]} [options.grantTypes] the grants the app may use (default authorization code and refresh token)
 */
export async function startProvider({
  issuer,
  appBaseURL,
  clientID,
  clientSecret,
  audience,
  accessTokenTTL,
  callbackPath = '/callback',
  grantTypes = ['authorization_code', 'refresh_token'],
}) {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: `demo-${randomBytes(4).toString('hex')}`, alg: 'RS256', use: 'sig' };

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientID,
        client_secret: clientSecret,
        redirect_uris: [`${appBaseURL}${callbackPath}`],
        post_logout_redirect_uris: [appBaseURL, `${appBaseURL}/`],
        // The grants the app asks for, plus the demo's password (with MFA), token exchange and Token Vault grants.
        grant_types: [...new Set([...grantTypes, 'password', MFA_OTP_GRANT, TOKEN_EXCHANGE_GRANT, FEDERATED_CONNECTION_GRANT])],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [signingKey] },
    findAccount,
    // Step-up: a login asked for the multi-factor policy is answered with it when the code was given.
    acrValues: ['urn:demo:pwd', PAPE_MULTI_FACTOR],
    claims: CLAIMS,
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    // Auth0 names the API a token is for `audience`; oidc-provider calls it a resource indicator.
    extraParams: ['audience'],
    // Like Auth0: profile and email claims go into the ID token too.
    conformIdTokenClaims: false,
    // A refresh token whenever the client may use one (oidc-provider's default also wants prompt=consent).
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    ttl: {
      AccessToken: accessTokenTTL,
      IdToken: 3600,
      RefreshToken: 86_400,
      AuthorizationCode: 60,
      Interaction: 3600,
      Session: 86_400,
      Grant: 86_400,
    },
    cookies: {
      keys: [randomBytes(32).toString('base64url')],
      // The app and the OP share the host 'localhost' (cookies ignore ports): distinct names keep them apart.
      names: { session: 'demo_op_session', interaction: 'demo_op_interaction', resume: 'demo_op_resume' },
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = page('Error - demo OpenID Provider', `<h1>Something went wrong</h1><p class="error">${escapeHtml(out.error)}: ${escapeHtml(out.error_description ?? '')}</p>`);
    },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      // Machine to machine (example/m2m.js) and sender-constrained tokens (example/dpop.js).
      clientCredentials: { enabled: true },
      dPoP: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        // The app asked for this logout (with an id_token_hint): submit oidc-provider's form right away.
        logoutSource(ctx, form) {
          ctx.type = 'html';
          ctx.body = page(
            'Signing out - demo OpenID Provider',
            `<h1>Signing out...</h1>${form}
<input type="hidden" name="logout" value="yes" form="op.logoutForm">
<noscript><button type="submit" form="op.logoutForm">Sign out</button></noscript>
<script>document.getElementById('op.logoutForm').submit();</script>`,
          );
        },
        postLogoutSuccessSource(ctx) {
          ctx.type = 'html';
          ctx.body = page('Signed out - demo OpenID Provider', '<h1>Signed out</h1>');
        },
      },
      resourceIndicators: {
        enabled: true,
        // A client credentials request names its API with Auth0's `audience`, which oidc-provider
        // does not read at the token endpoint: the demo has one API, so that is the one.
        defaultResource: (ctx, _client, oneOf) =>
          oneOf ?? ctx.oidc.params?.audience ?? (ctx.oidc.params?.grant_type === 'client_credentials' ? audience : undefined),
        // The code and refresh grants keep the API the login asked for.
        useGrantedResource: () => true,
        getResourceServerInfo(_ctx, indicator) {
          if (indicator !== audience) throw new errors.InvalidTarget('unknown audience');
          return { scope: API_SCOPES, audience, accessTokenFormat: 'jwt', accessTokenTTL, jwt: { sign: { alg: 'RS256' } } };
        },
      },
    },
  });

  // Token exchange, session transfer and Token Vault (see docs/token-exchange.md).
  registerTokenExchange(provider, { issuer, signingKey, accessTokenTTL });
  registerPasswordGrants(provider);

  const app = express();
  app.disable('x-powered-by');
  app.get('/interaction/:uid', async (req, res, next) => {
    try {
      const details = await provider.interactionDetails(req, res);
      if (details.prompt.name === 'login') return res.type('html').send(loginPage(details.uid));
      if (details.prompt.name === 'consent') return await grantConsent(req, res, details);
      res.status(400).type('html').send(page('Error', `<p class="error">Unsupported prompt.</p>`));
    } catch (err) {
      next(err);
    }
  });
  app.post('/interaction/:uid/login', express.urlencoded({ extended: false, limit: '4kb' }), async (req, res, next) => {
    try {
      const details = await provider.interactionDetails(req, res);
      const { username, password, otp } = req.body ?? {};
      const user = USERS.find((u) => u.username === username && u.password === password);
      if (user === undefined) return res.type('html').send(loginPage(details.uid, 'Wrong email or password.'));
      if (user.otpSecret !== undefined && !codeMatches(user, otp)) return res.type('html').send(loginPage(details.uid, 'Enter the current one-time code.'));
      const level = user.otpSecret === undefined ? { acr: 'urn:demo:pwd', amr: ['pwd'] } : { acr: PAPE_MULTI_FACTOR, amr: ['pwd', 'otp', 'mfa'] };
      await provider.interactionFinished(req, res, { login: { accountId: user.sub, ...level } }, { mergeWithLastSubmission: false });
    } catch (err) {
      next(err);
    }
  });
  // Consent is granted for what the demo app asks; a real OP would ask the user.
  async function grantConsent(req, res, details) {
    const missing = details.prompt.details;
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: details.grantId ? {} : { grantId } }, { mergeWithLastSubmission: true });
  }
  app.use('/interaction', (err, _req, res, _next) => {
    // Typically an expired interaction or a missing interaction cookie.
    res.status(400).type('html').send(page('Error', `<h1>Login interrupted</h1><p class="error">${escapeHtml(err.message)}</p><p>Start again from the app.</p>`));
  });
  app.use(provider.callback());

  const { port, hostname } = new URL(issuer);
  const server = http.createServer(app);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(port), hostname === 'localhost' ? '127.0.0.1' : hostname, resolve);
  });

  return {
    issuer,
    server,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * The password grant (for the app's password login route) and Auth0's
 * `mfa-otp` grant: the MFA user's password answers `mfa_required` with an
 * `mfa_token` (kept here for 10 minutes, one use), which the grant redeems
 * with the current code.
 */
function registerPasswordGrants(provider) {
  const pending = new Map();
  const issue = async (ctx, user, scope, amr) => {
    const { client } = ctx.oidc;
    const scopes = String(scope ?? 'openid').split(' ').filter((s) => ['openid', 'profile', 'email', 'offline_access'].includes(s));
    const grant = new provider.Grant({ accountId: user.sub, clientId: client.clientId });
    grant.addOIDCScope(scopes.join(' '));
    const grantId = await grant.save();
    const account = await findAccount(ctx, user.sub);
    ctx.oidc.entity('Account', account);
    const at = new provider.AccessToken({ accountId: user.sub, client, grantId, gty: 'password', scope: scopes.join(' ') });
    const body = { access_token: await at.save(), token_type: 'Bearer', expires_in: at.expiration, scope: scopes.join(' ') };
    if (scopes.includes('offline_access')) {
      const rt = new provider.RefreshToken({ accountId: user.sub, client, grantId, gty: 'password', scope: scopes.join(' '), rotations: 0 });
      body.refresh_token = await rt.save();
    }
    const idToken = new provider.IdToken(await account.claims(), { ctx });
    idToken.scope = scopes.join(' ');
    // The ID token says how the user signed in: a password, or a password and a one-time code.
    idToken.set('amr', amr);
    idToken.set('auth_time', Math.floor(Date.now() / 1000));
    if (amr.includes('mfa')) idToken.set('acr', PAPE_MULTI_FACTOR);
    body.id_token = await idToken.issue({ use: 'idtoken' });
    ctx.body = body;
  };
  const refuse = (ctx, status, error, error_description) => {
    ctx.status = status;
    ctx.body = { error, error_description };
  };
  provider.registerGrantType(
    'password',
    async (ctx) => {
      const { username, password, scope } = ctx.oidc.params;
      const user = USERS.find((u) => u.username === username && u.password === password);
      if (user === undefined) return refuse(ctx, 403, 'invalid_grant', 'Wrong email or password.');
      if (user.otpSecret === undefined) return issue(ctx, user, scope, ['pwd']);
      const mfaToken = randomBytes(24).toString('base64url');
      pending.set(mfaToken, { user, scope, expiresAt: Date.now() + 600_000 });
      ctx.status = 403;
      ctx.body = { error: 'mfa_required', error_description: 'Multifactor authentication required', mfa_token: mfaToken };
    },
    ['username', 'password', 'scope', 'audience'],
  );
  provider.registerGrantType(
    MFA_OTP_GRANT,
    async (ctx) => {
      const { mfa_token: mfaToken, otp } = ctx.oidc.params;
      const login = pending.get(mfaToken);
      if (login === undefined || login.expiresAt <= Date.now()) return refuse(ctx, 403, login ? 'expired_token' : 'invalid_grant', 'mfa_token is invalid or expired');
      if (!codeMatches(login.user, otp)) return refuse(ctx, 403, 'invalid_grant', 'Invalid otp_code.');
      pending.delete(mfaToken);
      await issue(ctx, login.user, login.scope, ['pwd', 'otp', 'mfa']);
    },
    ['mfa_token', 'otp'],
  );
}
