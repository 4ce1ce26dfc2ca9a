/**
 * Proves the test harness (createTestOP + Browser) with openid-client used directly, not with the
 * library: a tiny express relying party on 127.0.0.1 logs users in through the real OP.
 */
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import * as client from 'openid-client';

import { Browser, CookieJar } from './browser.js';
import {
  DEFAULT_REALM,
  M2M_CLIENT_SECRET,
  PASSWORD_REALM_GRANT,
  TEST_CLIENT_ID,
  TEST_CLIENT_SECRET,
  USERS,
  createTestOP,
  type TestOP,
} from './op.js';

const AUDIENCE = 'https://api.example.com';

type Tokens = client.TokenEndpointResponse & client.TokenEndpointResponseHelpers;

// ---------------------------------------------------------------------------------------------------
// A minimal relying party built on openid-client.
// ---------------------------------------------------------------------------------------------------
interface TestApp {
  base: string;
  server: http.Server;
  /** set once the OP exists */
  config?: client.Configuration;
  /** tokens of the last successful callback */
  tokens?: Tokens;
  logoutTokens: string[];
}

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function close(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function readCookie(req: express.Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

async function startApp(): Promise<TestApp> {
  const app = express();
  const server = http.createServer(app);
  const state: TestApp = { base: '', server, logoutTokens: [] };
  // login transactions by state value; the browser carries the state in the `tx` cookie
  const transactions = new Map<string, { verifier: string; nonce: string }>();

  app.get('/login', async (req, res, next) => {
    try {
      const config = state.config!;
      const verifier = client.randomPKCECodeVerifier();
      const txState = client.randomState();
      const nonce = client.randomNonce();
      transactions.set(txState, { verifier, nonce });
      const params: Record<string, string> = {
        redirect_uri: `${state.base}/callback`,
        scope: 'openid profile email',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state: txState,
        nonce,
      };
      // pass through a few parameters the tests need (audience, organization, prompt, scope, ...)
      for (const key of ['scope', 'audience', 'organization', 'prompt', 'response_mode']) {
        if (typeof req.query[key] === 'string') params[key] = req.query[key];
      }
      const url = req.query.par
        ? await client.buildAuthorizationUrlWithPAR(config, params)
        : client.buildAuthorizationUrl(config, params);
      res.cookie('tx', txState, { httpOnly: true, path: '/' });
      res.redirect(url.href);
    } catch (err) {
      next(err);
    }
  });

  const callback = async (req: express.Request, res: express.Response) => {
    const txState = readCookie(req, 'tx');
    const tx = txState ? transactions.get(txState) : undefined;
    if (!txState || !tx) {
      res.status(400).send('callback error: no login transaction');
      return;
    }
    // openid-client reads the response from the URL, or from the body of a form_post Request
    const currentUrl = new URL(req.originalUrl, state.base);
    const input =
      req.method === 'POST'
        ? new Request(currentUrl, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams(req.body as Record<string, string>).toString(),
          })
        : currentUrl;
    try {
      state.tokens = await client.authorizationCodeGrant(state.config!, input, {
        pkceCodeVerifier: tx.verifier,
        expectedState: txState,
        expectedNonce: tx.nonce,
      });
      res.redirect('/profile');
    } catch (err) {
      res.status(400).send(`callback error: ${describeError(err)}`);
    }
  };
  app.get('/callback', callback);
  app.post('/callback', express.urlencoded({ extended: false }), callback);

  app.get('/profile', (_req, res) => {
    res.json({ claims: state.tokens?.claims() });
  });

  app.post('/backchannel-logout', express.urlencoded({ extended: false }), (req, res) => {
    state.logoutTokens.push(String(req.body.logout_token));
    res.status(204).end();
  });

  state.base = `http://127.0.0.1:${await listen(server)}`;
  return state;
}

/** error code, message and the failed claim check (openid-client nests it in `cause`) */
function describeError(err: unknown): string {
  const parts: string[] = [];
  let current = err as { error?: string; message?: string; claim?: string; cause?: unknown } | undefined;
  for (let depth = 0; current && typeof current === 'object' && depth < 5; depth += 1) {
    if (current.error) parts.push(current.error);
    if (current.message) parts.push(current.message);
    if (current.claim) parts.push(`claim=${current.claim}`);
    current = current.cause as typeof current;
  }
  return parts.join(' ');
}

function discover(op: TestOP, clientId: string, secret: string): Promise<client.Configuration> {
  return client.discovery(new URL(op.issuer), clientId, undefined, client.ClientSecretBasic(secret), {
    execute: [client.allowInsecureRequests],
  });
}

/** The OAuth error code of a rejected openid-client call. */
async function oauthError(promise: Promise<unknown>): Promise<client.ResponseBodyError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof client.ResponseBodyError) return err;
    throw err;
  }
  throw new Error('expected the request to fail');
}

function isJwt(token: string): boolean {
  return token.split('.').length === 3;
}

// ---------------------------------------------------------------------------------------------------

describe('test OP harness', () => {
  let app: TestApp;
  let op: TestOP;
  let config: client.Configuration;
  let jwks: ReturnType<typeof createRemoteJWKSet>;

  beforeAll(async () => {
    app = await startApp();
    op = await createTestOP({ appBaseURL: app.base });
    config = await discover(op, TEST_CLIENT_ID, TEST_CLIENT_SECRET);
    app.config = config;
    jwks = createRemoteJWKSet(new URL(`${op.issuer}/jwks`), { cacheMaxAge: 0, cooldownDuration: 0 });
  });

  afterAll(async () => {
    await op?.stop();
    if (app) await close(app.server);
  });

  it('serves discovery on 127.0.0.1 and counts it', async () => {
    expect(op.issuer).toBe(`http://127.0.0.1:${op.port}`);
    const before = op.counts.discovery;
    const metadata = await (await fetch(`${op.issuer}/.well-known/openid-configuration`)).json();
    expect(metadata.issuer).toBe(op.issuer);
    expect(metadata.pushed_authorization_request_endpoint).toBe(`${op.issuer}/request`);
    expect(metadata.backchannel_logout_supported).toBe(true);
    expect(metadata.grant_types_supported).toEqual(
      expect.arrayContaining(['authorization_code', 'refresh_token', 'client_credentials', 'password', PASSWORD_REALM_GRANT]),
    );
    expect(op.counts.discovery).toBe(before + 1);
  });

  it('logs a user in with authorization code + PKCE through signIn', async () => {
    op.resetCounts();
    const browser = new Browser();
    const res = await op.signIn(browser, `${app.base}/login`);

    expect(res.status).toBe(200);
    expect(res.url).toBe(`${app.base}/profile`);
    const { claims } = JSON.parse(res.body);
    expect(claims).toMatchObject({ sub: USERS.alice.sub, email: USERS.alice.email, name: USERS.alice.name });
    expect(res.redirects.some((u) => u.startsWith(`${op.issuer}/interaction/`))).toBe(true);
    expect(op.counts.token).toEqual({ authorization_code: 1 });

    // the ID token really is signed by the OP
    const { payload } = await jwtVerify(app.tokens!.id_token!, jwks, { issuer: op.issuer, audience: TEST_CLIENT_ID });
    expect(payload.sub).toBe(USERS.alice.sub);
    // refresh tokens are issued without offline_access (issueRefreshToken policy)
    expect(app.tokens!.refresh_token).toEqual(expect.any(String));
    // app (tx) and OP cookies live in the same jar: same host, different ports
    expect(browser.cookies.get('tx', '127.0.0.1')).toBeDefined();
    expect(browser.cookies.get('op_session', '127.0.0.1')).toBeDefined();

    // a second login rides on the OP session and the stored consent: no interaction at all
    const again = await op.signIn(browser, `${app.base}/login`);
    expect(again.status).toBe(200);
    expect(again.redirects.some((u) => u.includes('/interaction/'))).toBe(false);
  });

  it('re-renders the login form on a wrong password', async () => {
    const res = await op.signIn(new Browser(), `${app.base}/login`, { username: 'alice', password: 'wrong' });
    expect(res.status).toBe(200);
    expect(res.url).toMatch(new RegExp(`^${op.issuer}/interaction/[^/]+/login$`));
    expect(res.body).toContain('<title>Sign in</title>');
    expect(res.body).toContain('Wrong email or password.');
  });

  it('returns access_denied to the app when consent is refused', async () => {
    const res = await op.signIn(new Browser(), `${app.base}/login`, USERS.alice, { consent: false });
    expect(res.status).toBe(400);
    expect(res.url).toMatch(new RegExp(`^${app.base}/callback\\?`));
    expect(res.body).toContain('access_denied');
  });

  it('answers prompt=none without an OP session with login_required', async () => {
    const res = await new Browser().get(`${app.base}/login?prompt=none`);
    expect(res.status).toBe(400);
    const callback = new URL(res.url);
    expect(callback.pathname).toBe('/callback');
    expect(callback.searchParams.get('error')).toBe('login_required');
  });

  it('completes response_mode=form_post logins', async () => {
    const res = await op.signIn(new Browser(), `${app.base}/login?response_mode=form_post`);
    expect(res.status).toBe(200);
    expect(res.url).toBe(`${app.base}/profile`);
    expect(JSON.parse(res.body).claims.sub).toBe(USERS.alice.sub);
  });

  it('rotates refresh tokens and revokes the grant when a rotated one is reused', async () => {
    await op.signIn(new Browser(), `${app.base}/login`);
    const rt1 = app.tokens!.refresh_token!;
    op.resetCounts();

    const second = await client.refreshTokenGrant(config, rt1);
    const rt2 = second.refresh_token!;
    expect(rt2).toEqual(expect.any(String));
    expect(rt2).not.toBe(rt1);
    expect(second.id_token).toEqual(expect.any(String));

    const reuse = await oauthError(client.refreshTokenGrant(config, rt1));
    expect(reuse.error).toBe('invalid_grant');
    // the whole grant is gone, the newest refresh token included
    const after = await oauthError(client.refreshTokenGrant(config, rt2));
    expect(after.error).toBe('invalid_grant');
    expect(op.counts.token).toEqual({ refresh_token: 3 });
  });

  it('issues JWT access tokens for an audience with client credentials', async () => {
    const m2m = await discover(op, 'm2m-client', M2M_CLIENT_SECRET);
    const res = await client.clientCredentialsGrant(m2m, { audience: AUDIENCE, scope: 'read:data', organization: 'org_123' });
    expect(isJwt(res.access_token)).toBe(true);
    const { payload, protectedHeader } = await jwtVerify(res.access_token, jwks, { issuer: op.issuer, audience: AUDIENCE });
    expect(protectedHeader.typ).toBe('at+jwt');
    expect(payload).toMatchObject({ aud: AUDIENCE, scope: 'read:data', client_id: 'm2m-client', org_id: 'org_123' });

    const named = await client.clientCredentialsGrant(m2m, { audience: AUDIENCE, organization: 'acme' });
    expect(decodeJwt(named.access_token)).toMatchObject({ org_name: 'acme' });

    // without an audience the token is opaque
    const opaque = await client.clientCredentialsGrant(m2m);
    expect(isJwt(opaque.access_token)).toBe(false);
  });

  it('maps audience and organization of the authorization request like Auth0', async () => {
    const query = new URLSearchParams({
      audience: AUDIENCE,
      organization: 'org_abc',
      scope: 'openid profile read:data',
    });
    const res = await op.signIn(new Browser(), `${app.base}/login?${query}`);
    expect(res.status).toBe(200);

    const tokens = app.tokens!;
    const { payload: at } = await jwtVerify(tokens.access_token, jwks, { audience: AUDIENCE });
    expect(at.scope).toBe('read:data');
    expect(at.org_id).toBe('org_abc');
    expect(tokens.claims()).toMatchObject({ org_id: 'org_abc', name: USERS.alice.name });

    // refreshing keeps both the audience and the organization
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(decodeJwt(refreshed.access_token)).toMatchObject({ aud: AUDIENCE, org_id: 'org_abc' });
    expect(refreshed.claims()).toMatchObject({ org_id: 'org_abc' });

    // without audience the access token is opaque and works at userinfo
    await op.signIn(new Browser(), `${app.base}/login`);
    expect(isJwt(app.tokens!.access_token)).toBe(false);
    const userinfo = await client.fetchUserInfo(config, app.tokens!.access_token, USERS.alice.sub);
    expect(userinfo.email).toBe(USERS.alice.email);
    expect(app.tokens!.claims()!.org_id).toBeUndefined();
  });

  describe('password grants', () => {
    it('issues tokens and records the auth0-forwarded-for header', async () => {
      op.resetCounts();
      // openid-client's customFetch hook adds the header like a server-side Auth0 SDK would
      const withHeader = await discover(op, TEST_CLIENT_ID, TEST_CLIENT_SECRET);
      withHeader[client.customFetch] = (url, options) => {
        const headers = new Headers(options.headers);
        headers.set('auth0-forwarded-for', '203.0.113.7');
        return fetch(url, { ...options, headers } as RequestInit);
      };

      const res = await client.genericGrantRequest(withHeader, 'password', {
        username: USERS.alice.email,
        password: USERS.alice.password,
        scope: 'openid profile email offline_access read:data',
        audience: AUDIENCE,
      });
      const { payload: idToken } = await jwtVerify(res.id_token!, jwks, { issuer: op.issuer, audience: TEST_CLIENT_ID });
      expect(idToken).toMatchObject({ sub: USERS.alice.sub, email: USERS.alice.email, name: USERS.alice.name });
      expect(typeof idToken.exp).toBe('number');
      expect(decodeJwt(res.access_token)).toMatchObject({ aud: AUDIENCE, scope: 'read:data', sub: USERS.alice.sub });
      expect(res.refresh_token).toEqual(expect.any(String));

      expect(op.tokenRequests).toHaveLength(1);
      expect(op.tokenRequests[0]!.grantType).toBe('password');
      expect(op.tokenRequests[0]!.headers['auth0-forwarded-for']).toBe('203.0.113.7');
      expect(op.tokenRequests[0]!.params).toMatchObject({ username: USERS.alice.email, audience: AUDIENCE });

      // the refresh token works with the normal refresh_token grant
      const refreshed = await client.refreshTokenGrant(config, res.refresh_token!);
      expect(decodeJwt(refreshed.access_token)).toMatchObject({ aud: AUDIENCE });
      expect(refreshed.claims()!.sub).toBe(USERS.alice.sub);
    });

    it('answers a wrong password with invalid_grant', async () => {
      const err = await oauthError(
        client.genericGrantRequest(config, 'password', { username: 'alice', password: 'nope', scope: 'openid' }),
      );
      expect(err.status).toBe(403);
      expect(err.error).toBe('invalid_grant');
      expect(err.error_description).toBe('Wrong email or password.');
    });

    it('answers users with MFA with mfa_required and an mfa_token', async () => {
      const err = await oauthError(
        client.genericGrantRequest(config, 'password', { username: 'bob', password: USERS.bob.password, scope: 'openid' }),
      );
      expect(err.status).toBe(403);
      expect(err.error).toBe('mfa_required');
      expect(err.cause.mfa_token).toEqual(expect.any(String));
    });

    it('supports the password-realm grant', async () => {
      const ok = await client.genericGrantRequest(config, PASSWORD_REALM_GRANT, {
        username: 'alice',
        password: USERS.alice.password,
        realm: DEFAULT_REALM,
        scope: 'openid',
      });
      expect(ok.claims()!.sub).toBe(USERS.alice.sub);
      expect(isJwt(ok.access_token)).toBe(false);
      expect(ok.refresh_token).toBeUndefined();

      const err = await oauthError(
        client.genericGrantRequest(config, PASSWORD_REALM_GRANT, {
          username: 'alice',
          password: USERS.alice.password,
          realm: 'some-other-connection',
        }),
      );
      expect(err.error).toBe('invalid_grant');
    });
  });

  describe('tamperIdToken', () => {
    const passwordLogin = () =>
      client.genericGrantRequest(config, 'password', { username: 'alice', password: USERS.alice.password, scope: 'openid' });

    afterEach(() => op.tamperIdToken(null));

    it('makes the app reject a changed nonce', async () => {
      op.tamperIdToken((claims) => ({ claims: { ...claims, nonce: 'not-the-nonce' } }));
      const res = await op.signIn(new Browser(), `${app.base}/login`);
      expect(res.status).toBe(400);
      expect(res.body).toMatch(/callback error:.*nonce/);
    });

    it('re-signs with the OP key by default', async () => {
      op.tamperIdToken((claims) => ({ claims: { ...claims, tampered: true } }));
      const res = await passwordLogin();
      const { payload } = await jwtVerify(res.id_token!, jwks, { issuer: op.issuer });
      expect(payload.tampered).toBe(true);
    });

    it('can sign with a foreign key or break the signature', async () => {
      op.tamperIdToken(() => ({ signWith: 'foreign' }));
      const foreign = await passwordLogin();
      expect(decodeProtectedHeader(foreign.id_token!).kid).toBe(op.signingKeys().privateJwks[0]!.kid);
      await expect(jwtVerify(foreign.id_token!, jwks)).rejects.toThrow(/signature verification failed/);

      op.tamperIdToken(() => ({ signWith: 'none' }));
      const broken = await passwordLogin();
      await expect(jwtVerify(broken.id_token!, jwks)).rejects.toThrow(/signature verification failed/);
    });
  });

  it('rotateKeys publishes and signs with a new kid; sessions survive', async () => {
    const browser = new Browser();
    await op.signIn(browser, `${app.base}/login`);
    const kidsBefore = (await (await fetch(`${op.issuer}/jwks`)).json()).keys.map((k: { kid: string }) => k.kid);

    await op.rotateKeys();

    const published = (await (await fetch(`${op.issuer}/jwks`)).json()).keys as Array<{ kid: string; d?: string }>;
    const kidsAfter = published.map((k) => k.kid);
    expect(kidsAfter.some((kid) => kidsBefore.includes(kid))).toBe(false);
    expect(published.every((k) => k.d === undefined)).toBe(true);
    const newKid = op.signingKeys().privateJwks[0]!.kid;
    expect(kidsAfter).toContain(newKid);

    // the OP session and consent made before the rotation still work
    const res = await op.signIn(browser, `${app.base}/login`);
    expect(res.status).toBe(200);
    expect(res.redirects.some((u) => u.includes('/interaction/'))).toBe(false);
    expect(decodeProtectedHeader(app.tokens!.id_token!).kid).toBe(newKid);
    await jwtVerify(app.tokens!.id_token!, jwks, { issuer: op.issuer });
  });

  it('stop() makes the OP unreachable and start() brings it back with its state', async () => {
    const res = await client.genericGrantRequest(config, 'password', {
      username: 'alice',
      password: USERS.alice.password,
      scope: 'openid offline_access',
    });
    const port = op.port;

    await op.stop();
    await expect(fetch(`${op.issuer}/.well-known/openid-configuration`)).rejects.toThrow();
    await expect(client.refreshTokenGrant(config, res.refresh_token!)).rejects.toThrow();

    await op.start();
    expect(op.port).toBe(port);
    expect((await fetch(`${op.issuer}/.well-known/openid-configuration`)).status).toBe(200);
    const refreshed = await client.refreshTokenGrant(config, res.refresh_token!);
    expect(refreshed.claims()!.sub).toBe(USERS.alice.sub);
  });

  it('supports pushed authorization requests', async () => {
    op.resetCounts();
    const res = await op.signIn(new Browser(), `${app.base}/login?par=1`);
    expect(res.status).toBe(200);
    expect(op.counts.par).toBe(1);
    expect(res.redirects.some((u) => u.startsWith(`${op.issuer}/auth?`) && u.includes('request_uri='))).toBe(true);
  });

  it('can require pushed authorization requests', async () => {
    const strict = await createTestOP({ appBaseURL: app.base, requirePushedAuthorizationRequests: true });
    try {
      const strictConfig = await discover(strict, TEST_CLIENT_ID, TEST_CLIENT_SECRET);
      expect(strictConfig.serverMetadata().require_pushed_authorization_requests).toBe(true);
      const params = { redirect_uri: `${app.base}/callback`, scope: 'openid', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' };
      const plain = await new Browser().get(client.buildAuthorizationUrl(strictConfig, params).href, { follow: false });
      expect(new URL(plain.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');
      const viaPar = await client.buildAuthorizationUrlWithPAR(strictConfig, params);
      expect(viaPar.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/);
    } finally {
      await strict.stop();
    }
  });

  it('endSession delivers back-channel logout tokens', async () => {
    const browser = new Browser();
    await op.signIn(browser, `${app.base}/login`);
    const sid = app.tokens!.claims()!.sid;
    expect(sid).toEqual(expect.any(String));
    op.resetCounts();
    app.logoutTokens.length = 0;

    await op.endSession(browser);

    expect(app.logoutTokens).toHaveLength(1);
    const { payload, protectedHeader } = await jwtVerify(app.logoutTokens[0]!, jwks, {
      issuer: op.issuer,
      audience: TEST_CLIENT_ID,
    });
    expect(protectedHeader.typ).toBe('logout+jwt');
    expect(payload.sid).toBe(sid);
    expect(payload.sub).toBe(USERS.alice.sub);
    expect(payload.events).toEqual({ 'http://schemas.openid.net/event/backchannel-logout': {} });
    expect(op.backchannelLogouts).toEqual([expect.objectContaining({ clientId: TEST_CLIENT_ID, ok: true, sid })]);
    expect(browser.cookies.get('op_session')).toBeUndefined();

    // the next login needs the login form again
    const res = await op.signIn(browser, `${app.base}/login`);
    expect(res.redirects.some((u) => u.includes('/interaction/'))).toBe(true);
  });

  it('supports DPoP with server nonces when enabled', async () => {
    const dpopOP = await createTestOP({ appBaseURL: app.base, dpop: { requireNonce: true } });
    try {
      const m2m = await discover(dpopOP, 'm2m-client', M2M_CLIENT_SECRET);
      const DPoP = client.getDPoPHandle(m2m, await client.randomDPoPKeyPair());
      // openid-client retries once with the nonce from the use_dpop_nonce error
      const res = await client.clientCredentialsGrant(m2m, {}, { DPoP });
      expect(res.token_type.toLowerCase()).toBe('dpop');
      expect(dpopOP.counts.token.client_credentials).toBe(2);
    } finally {
      await dpopOP.stop();
    }
  });
});

describe('Browser', () => {
  let a: http.Server;
  let b: http.Server;
  let baseA: string;
  let baseB: string;
  const seen: Array<{ port: string; path: string; cookie: string | undefined; method: string | undefined }> = [];

  beforeAll(async () => {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
      const url = new URL(req.url!, 'http://127.0.0.1');
      seen.push({ port: String(req.socket.localPort), path: url.pathname, cookie: req.headers.cookie, method: req.method });
      if (url.pathname === '/set') {
        res.setHeader('set-cookie', [
          'shared=1; Path=/; HttpOnly',
          'scoped=2; Path=/only',
          'secure=3; Path=/; Secure',
          'gone=4; Path=/',
        ]);
        res.end('ok');
      } else if (url.pathname === '/clear') {
        res.setHeader('set-cookie', ['gone=; Path=/; Max-Age=0', 'shared=x; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT']);
        res.end('ok');
      } else if (url.pathname === '/redirect-post') {
        res.statusCode = 302;
        res.setHeader('location', `${baseB}/landing`);
        res.end();
      } else if (url.pathname === '/form') {
        res.setHeader('content-type', 'text/html');
        res.end(`<form method="post" action="/redirect-post"><input type="hidden" name="a" value="x&amp;y"><input type="submit" name="go" value="1"></form>`);
      } else {
        res.end('landing');
      }
    };
    a = http.createServer(handler);
    b = http.createServer(handler);
    baseA = `http://127.0.0.1:${await listen(a)}`;
    baseB = `http://127.0.0.1:${await listen(b)}`;
  });

  afterAll(async () => {
    await close(a);
    await close(b);
  });

  it('shares cookies across ports of a host and honours Path, Secure and deletion', async () => {
    const browser = new Browser();
    await browser.get(`${baseA}/set`);
    expect(browser.cookies.get('shared', '127.0.0.1')).toMatchObject({ value: '1', httpOnly: true });

    seen.length = 0;
    await browser.get(`${baseB}/anything`);
    await browser.get(`${baseB}/only/deeper`);
    expect(seen[0]?.cookie).toBe('shared=1; gone=4'); // no Secure cookie over http, no /only cookie
    expect(seen[1]?.cookie).toContain('scoped=2');

    await browser.get(`${baseA}/clear`);
    expect(browser.cookies.get('gone')).toBeUndefined();
    expect(browser.cookies.get('shared')).toBeUndefined();
    expect(browser.cookies.all('127.0.0.1').map((c) => c.name).sort()).toEqual(['scoped', 'secure']);
  });

  it('follows redirects (POST then 302 becomes GET) and submits forms', async () => {
    const browser = new Browser();
    const page = await browser.get(`${baseA}/form`);
    seen.length = 0;
    const res = await browser.submitForm(page);
    expect(res.status).toBe(200);
    expect(res.url).toBe(`${baseB}/landing`);
    expect(res.redirects).toEqual([`${baseB}/landing`]);
    expect(seen.map((s) => `${s.method} ${s.path}`)).toEqual(['POST /redirect-post', 'GET /landing']);

    const manual = await browser.get(`${baseA}/redirect-post`, { follow: false });
    expect(manual.status).toBe(302);
    expect(manual.redirects).toEqual([]);
  });

  it('parses Set-Cookie attributes', () => {
    const jar = new CookieJar();
    const url = new URL('http://127.0.0.1:1234/a/b');
    jar.setFromHeader('x=1', url); // default path is the request "directory"
    jar.setFromHeader(`y=2; Max-Age=60; SameSite=Lax; Domain=example.com`, url); // wrong domain: ignored
    expect(jar.get('x')).toMatchObject({ path: '/a', hostOnly: true, domain: '127.0.0.1' });
    expect(jar.get('y')).toBeUndefined();
    expect(jar.headerFor(new URL('http://127.0.0.1/a/c'))).toBe('x=1');
    expect(jar.headerFor(new URL('http://127.0.0.1/other'))).toBeUndefined();
    jar.set({ name: 'z', value: randomBytes(4).toString('hex') });
    jar.delete('x');
    expect(jar.all().map((c) => c.name)).toEqual(['z']);
  });
});
