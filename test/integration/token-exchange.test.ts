/**
 * req.oidc.customTokenExchange, getAccessTokenForConnection (Auth0 Token Vault),
 * requestSessionTransferToken and buildSessionTransferRedirect, end to end: a browser signs in at
 * the real test OP, the app's routes call the methods, and the OP records what it received. No
 * token ends up in a cookie, a debug log line or an error.
 */
import { format } from 'node:util';

import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import createDebug from 'debug';
import type { Express } from 'express';
import { decodeJwt } from 'jose';

import {
  ACCESS_TOKEN_TYPE,
  CUSTOM_SUBJECT_TOKEN_TYPE,
  FEDERATED_CONNECTION_GRANT,
  ID_TOKEN_TYPE,
  REFRESH_TOKEN_TYPE,
  SESSION_TRANSFER_TOKEN_TYPE,
  TOKEN_EXCHANGE_GRANT,
  USERS,
  customSubjectToken,
  type TestOPOptions,
} from '../helpers/op.js';
import type { Browser } from '../helpers/browser.js';
import {
  JSON_ACCEPT,
  errorTexts,
  expectNoSecrets,
  signIn,
  startRefreshSetup,
  stored,
  sleepUntil,
  tokenValues,
  type RefreshSetup,
} from '../helpers/refresh-app.js';
import { Browser as TestBrowser } from '../helpers/browser.js';
import type { AuthOptions } from '../../src/index.js';

const AUDIENCE = 'https://billing.example.com';
const TARGET = 'https://target.example.com/login';

const logLines: string[] = [];
const originalLog = createDebug.log;
let previouslyEnabled = '';
beforeAll(() => {
  previouslyEnabled = createDebug.disable();
  createDebug.enable('express-oidc:*');
  createDebug.log = (...args: unknown[]) => {
    logLines.push(format(...args));
  };
});
afterAll(() => {
  createDebug.log = originalLog;
  createDebug.disable();
  if (previouslyEnabled) createDebug.enable(previouslyEnabled);
});

/** Every token value the OP issued or received in the exchanges, and the stored session tokens. */
const seenTokens: string[] = [];

/** Holds /vault-gated requests until released (their sessions are loaded before they wait). */
let gate: Promise<void> = Promise.resolve();
/** Called when a /vault-gated request is waiting at the gate. */
let atGate = () => {};

function routes(app: Express): void {
  const handle = (fn: (req: Parameters<Parameters<Express['get']>[1]>[0]) => Promise<unknown>) =>
    (async (req, res, next) => {
      try {
        res.json(await fn(req));
      } catch (err) {
        next(err);
      }
    }) as Parameters<Express['get']>[1];

  app.get(
    '/cte',
    handle(async (req) => {
      const result = await req.oidc.customTokenExchange(req.query.audience === undefined ? {} : { audience: String(req.query.audience) });
      seenTokens.push(result.accessToken);
      return { issuedTokenType: result.issuedTokenType, claims: decodeJwt(result.accessToken), idTokenSub: result.idTokenClaims?.sub };
    }),
  );
  app.get(
    '/cte-delegated',
    handle(async (req) => {
      const result = await req.oidc.customTokenExchange({
        subjectToken: customSubjectToken(USERS.bob.sub),
        subjectTokenType: CUSTOM_SUBJECT_TOKEN_TYPE,
        actorToken: req.oidc.idToken as string,
        actorTokenType: ID_TOKEN_TYPE,
        audience: AUDIENCE,
      });
      seenTokens.push(result.accessToken);
      return { act: result.act, sub: decodeJwt(result.accessToken).sub };
    }),
  );
  app.get(
    '/cte-untyped-actor',
    handle(async (req) => req.oidc.customTokenExchange({ actorToken: req.oidc.idToken as string, audience: AUDIENCE })),
  );
  app.get(
    '/vault',
    handle(async (req) => {
      const token = await req.oidc.getAccessTokenForConnection({
        connection: String(req.query.connection),
        ...(req.query.loginHint === undefined ? {} : { loginHint: String(req.query.loginHint) }),
      });
      seenTokens.push(token.token);
      return { token: token.token, expiresAt: token.expiresAt, scope: token.scope, connection: token.connection, tokenType: token.tokenType };
    }),
  );
  app.get(
    '/vault-gated',
    handle(async (req) => {
      atGate();
      await gate;
      const token = await req.oidc.getAccessTokenForConnection({ connection: 'github' });
      seenTokens.push(token.token);
      return { token: token.token };
    }),
  );
  app.get(
    '/stt',
    handle(async (req) => {
      const result = await req.oidc.requestSessionTransferToken({
        subjectToken: typeof req.query.subject === 'string' ? req.query.subject : customSubjectToken(USERS.bob.sub),
        subjectTokenType: CUSTOM_SUBJECT_TOKEN_TYPE,
        extra: { reason: 'Investigating ticket TCK-1234' },
      });
      seenTokens.push(result.sessionTransferToken);
      const target = typeof req.query.target === 'string' ? req.query.target : TARGET;
      return {
        url: req.oidc.buildSessionTransferRedirect(target, result, { organization: 'org_globex' }),
        token: result.sessionTransferToken,
        expiresIn: result.expiresIn,
      };
    }),
  );
}

let setup: RefreshSetup;
afterEach(async () => {
  await setup?.close();
});

async function start(opOptions: TestOPOptions = {}, appOptions: AuthOptions = {}): Promise<Browser> {
  setup = await startRefreshSetup({ accessTokenTTL: 3600, ...opOptions }, appOptions, routes);
  const browser = await signIn(setup);
  seenTokens.push(...tokenValues(await stored(setup, browser)));
  setup.op.resetCounts();
  return browser;
}

const get = async (browser: Browser, path: string) => {
  const res = await browser.get(`${setup.app.url}${path}`, JSON_ACCEPT);
  return { status: res.status, body: JSON.parse(res.body) as Record<string, any>, setCookies: res.headers.getSetCookie() };
};

const exchanges = (grantType: string) => setup.op.tokenRequests.filter((r) => r.grantType === grantType);

/** No token anywhere it must not be: cookies, Set-Cookie headers, debug log lines, errors. */
function expectNoTokenLeaks(browser: Browser, setCookies: string[] = []): void {
  const cookies = browser.cookies.all().map((c) => `${c.name}=${c.value}`);
  expectNoSecrets([...cookies, ...setCookies, ...logLines, ...errorTexts(setup.app.errors)], seenTokens);
}

describe('req.oidc.customTokenExchange', () => {
  test("exchanges the session's access token; audience and scope default to authorizationParams", async () => {
    const browser = await start({}, { authorizationParams: { scope: 'openid profile offline_access', audience: 'https://api.example.com' } });
    const session = await stored(setup, browser);
    const res = await get(browser, `/cte?audience=${encodeURIComponent(AUDIENCE)}`);
    expect(res.status).toBe(200);
    const [request] = exchanges(TOKEN_EXCHANGE_GRANT);
    expect(exchanges(TOKEN_EXCHANGE_GRANT)).toHaveLength(1);
    expect(request?.params).toEqual({
      grant_type: TOKEN_EXCHANGE_GRANT,
      subject_token: session?.access_token,
      subject_token_type: ACCESS_TOKEN_TYPE,
      audience: AUDIENCE,
      scope: 'openid profile offline_access',
    });
    expect(request?.headers.authorization).toMatch(/^Basic /);
    expect(res.body.issuedTokenType).toBe(ACCESS_TOKEN_TYPE);
    expect(res.body.claims).toMatchObject({ sub: USERS.alice.sub, aud: AUDIENCE });
    // the answer's ID token (scope openid) was validated: its claims are there
    expect(res.body.idTokenSub).toBe(USERS.alice.sub);

    const defaults = await get(browser, '/cte');
    expect(defaults.status).toBe(200);
    expect(exchanges(TOKEN_EXCHANGE_GRANT)[1]?.params.audience).toBe('https://api.example.com');
    expectNoTokenLeaks(browser, [...res.setCookies, ...defaults.setCookies]);
  });

  test('a due session access token is refreshed first: the fresh one is the subject token', async () => {
    const browser = await start({ accessTokenTTL: 2 }, { autoRefresh: false });
    const before = await stored(setup, browser);
    await sleepUntil(before?.expires_at as number);
    const res = await get(browser, '/cte');
    expect(res.status).toBe(200);
    const after = await stored(setup, browser);
    expect(setup.op.counts.token.refresh_token).toBe(1);
    expect(after?.access_token).not.toBe(before?.access_token);
    expect(exchanges(TOKEN_EXCHANGE_GRANT)[0]?.params.subject_token).toBe(after?.access_token);
    seenTokens.push(...tokenValues(after));
    expectNoTokenLeaks(browser, res.setCookies);
  });

  test('delegation: the session ID token as the actor gives a token with its act claim', async () => {
    const browser = await start();
    const session = await stored(setup, browser);
    const res = await get(browser, '/cte-delegated');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ act: { sub: USERS.alice.sub }, sub: USERS.bob.sub });
    expect(exchanges(TOKEN_EXCHANGE_GRANT)[0]?.params).toMatchObject({ actor_token: session?.id_token, actor_token_type: ID_TOKEN_TYPE });
  });

  test('an actor token without its type is a 400 before any request', async () => {
    const browser = await start();
    const res = await get(browser, '/cte-untyped-actor');
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('ERR_TOKEN_EXCHANGE_INVALID');
    expect(setup.op.tokenRequests).toHaveLength(0);
    expectNoTokenLeaks(browser);
  });

  test('without a session and without a subject token: 401, nothing sent', async () => {
    setup = await startRefreshSetup({}, {}, routes);
    const res = await get(new TestBrowser(), '/cte');
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('ERR_NOT_AUTHENTICATED');
    expect(setup.op.tokenRequests).toHaveLength(0);
  });
});

describe('req.oidc.getAccessTokenForConnection (Token Vault)', () => {
  test("exchanges the session's refresh token once, then serves the token from the session", async () => {
    const browser = await start();
    const session = await stored(setup, browser);
    const first = await get(browser, '/vault?connection=google-oauth2');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ connection: 'google-oauth2', tokenType: 'Bearer', scope: 'https://www.googleapis.com/auth/calendar.readonly' });
    const [request] = exchanges(FEDERATED_CONNECTION_GRANT);
    expect(request?.params).toEqual({
      grant_type: FEDERATED_CONNECTION_GRANT,
      subject_token: session?.refresh_token,
      subject_token_type: REFRESH_TOKEN_TYPE,
      requested_token_type: 'http://auth0.com/oauth/token-type/federated-connection-access-token',
      connection: 'google-oauth2',
    });
    expect(request?.headers.authorization).toMatch(/^Basic /);

    const again = await get(browser, '/vault?connection=google-oauth2');
    expect(again.body.token).toBe(first.body.token);
    expect(exchanges(FEDERATED_CONNECTION_GRANT)).toHaveLength(1);

    // kept in the (server-side) session, per connection and login hint
    const cached = (await stored(setup, browser))?.connection_tokens as Record<string, { access_token: string }>;
    expect(Object.values(cached).map((entry) => entry.access_token)).toEqual([first.body.token]);

    const hinted = await get(browser, '/vault?connection=google-oauth2&loginHint=alice%40work.example');
    expect(hinted.body.token).not.toBe(first.body.token);
    expect(exchanges(FEDERATED_CONNECTION_GRANT)[1]?.params.login_hint).toBe('alice@work.example');
    const other = await get(browser, '/vault?connection=github');
    expect(other.body.connection).toBe('github');
    expect(exchanges(FEDERATED_CONNECTION_GRANT)).toHaveLength(3);
    expectNoTokenLeaks(browser, [...first.setCookies, ...again.setCookies, ...hinted.setCookies, ...other.setCookies]);
  });

  test('concurrent requests of one session share one exchange', async () => {
    const browser = await start();
    const results = await Promise.all(Array.from({ length: 10 }, () => get(browser, '/vault?connection=github')));
    expect(new Set(results.map((r) => r.body.token)).size).toBe(1);
    expect(exchanges(FEDERATED_CONNECTION_GRANT)).toHaveLength(1);
  });

  test('a refresh token rotated meanwhile (by another request) is never presented: the newest stored one is', async () => {
    const browser = await start();
    const before = await stored(setup, browser);
    let release = () => {};
    gate = new Promise<void>((resolve) => (release = resolve));
    const waiting = new Promise<void>((resolve) => (atGate = resolve));
    const pending = get(browser, '/vault-gated'); // loads the session with the current refresh token, then waits
    await waiting;
    const refreshed = await browser.post(`${setup.app.url}/refresh`, {}, JSON_ACCEPT);
    expect(refreshed.status).toBe(200);
    const after = await stored(setup, browser);
    expect(after?.refresh_token).not.toBe(before?.refresh_token);
    seenTokens.push(...tokenValues(after));
    release();
    const res = await pending;
    expect(res.status).toBe(200);
    expect(exchanges(FEDERATED_CONNECTION_GRANT).map((r) => r.params.subject_token)).toEqual([after?.refresh_token]);
    expectNoTokenLeaks(browser, res.setCookies);
  });

  test('a token is exchanged again once it is due', async () => {
    const browser = await start({ connectionTokenTTL: 4 });
    const first = await get(browser, '/vault?connection=github');
    // a 4 s token is due at half its lifetime (the 60 s leeway is capped)
    await sleepUntil((first.body.expiresAt as number) - 2);
    const second = await get(browser, '/vault?connection=github');
    expect(second.body.token).not.toBe(first.body.token);
    expect(exchanges(FEDERATED_CONNECTION_GRANT)).toHaveLength(2);
  });

  test('a refusal is an error for that connection; the user stays signed in', async () => {
    const browser = await start();
    const res = await get(browser, '/vault?connection=dropbox');
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'ERR_CONNECTION_TOKEN_FAILED', error: 'federated_connection_refresh_token_not_found' });
    expect((await get(browser, '/profile')).status).toBe(200);
    expectNoTokenLeaks(browser, res.setCookies);
  });
});

describe('req.oidc session transfer', () => {
  test('requests a session transfer token with the session ID token as the actor, and builds the redirect', async () => {
    const browser = await start();
    const session = await stored(setup, browser);
    const res = await get(browser, '/stt');
    expect(res.status).toBe(200);
    const [request] = exchanges(TOKEN_EXCHANGE_GRANT);
    expect(request?.params).toEqual({
      grant_type: TOKEN_EXCHANGE_GRANT,
      subject_token: customSubjectToken(USERS.bob.sub),
      subject_token_type: CUSTOM_SUBJECT_TOKEN_TYPE,
      actor_token: session?.id_token,
      actor_token_type: ID_TOKEN_TYPE,
      audience: 'urn:127.0.0.1:session_transfer',
      reason: 'Investigating ticket TCK-1234',
    });
    const url = new URL(res.body.url as string);
    expect(`${url.origin}${url.pathname}`).toBe(TARGET);
    expect(url.searchParams.get('session_transfer_token')).toBe(res.body.token);
    expect(url.searchParams.get('organization')).toBe('org_globex');
    expect(res.body.expiresIn).toBe(60);
    expectNoTokenLeaks(browser, res.setCookies);
  });

  test('an expired session ID token is refreshed first and the new one is the actor', async () => {
    const browser = await start({ idTokenTTL: 2 });
    const before = await stored(setup, browser);
    await sleepUntil(decodeJwt(before?.id_token as string).exp as number);
    // a request that cannot be sent is refused before the actor is resolved: nothing refreshed
    const blank = await get(browser, '/stt?subject=');
    expect(blank.body.code).toBe('ERR_TOKEN_EXCHANGE_INVALID');
    expect(setup.op.tokenRequests).toHaveLength(0);
    const res = await get(browser, '/stt');
    expect(res.status).toBe(200);
    const after = await stored(setup, browser);
    expect(after?.id_token).not.toBe(before?.id_token);
    expect(exchanges(TOKEN_EXCHANGE_GRANT)[0]?.params.actor_token).toBe(after?.id_token);
  });

  test('another issued token type than a session transfer token is a 502', async () => {
    const browser = await start({ sessionTransferIssuedTokenType: ACCESS_TOKEN_TYPE });
    const res = await get(browser, '/stt');
    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({ code: 'ERR_SESSION_TRANSFER_FAILED', error: 'invalid_token_response' });
    expectNoTokenLeaks(browser, res.setCookies);
  });

  test('the OP refusing the subject is ERR_SESSION_TRANSFER_FAILED with its error; a blank subject is refused before any request', async () => {
    const browser = await start();
    const refused = await get(browser, `/stt?subject=${encodeURIComponent('subject:auth0|nobody')}`);
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ code: 'ERR_SESSION_TRANSFER_FAILED', error: 'invalid_grant' });
    expect(exchanges(TOKEN_EXCHANGE_GRANT)).toHaveLength(1);

    const blank = await get(browser, '/stt?subject=');
    expect(blank.status).toBe(400);
    expect(blank.body.code).toBe('ERR_TOKEN_EXCHANGE_INVALID');
    expect(blank.body.message).toContain('requestSessionTransferToken');
    expect(setup.op.tokenRequests).toHaveLength(1);
    expectNoTokenLeaks(browser, [...refused.setCookies, ...blank.setCookies]);
  });

  test('without a session there is no actor: 401 before any request', async () => {
    setup = await startRefreshSetup({}, {}, routes);
    const res = await get(new TestBrowser(), '/stt');
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('ERR_ACTOR_UNAVAILABLE');
    expect(setup.op.tokenRequests).toHaveLength(0);
  });

  test('the redirect target must be https (or loopback http)', async () => {
    const browser = await start();
    const res = await get(browser, `/stt?target=${encodeURIComponent('http://target.example.com/login')}`);
    expect(res.status).toBe(500);
    expect(res.body.code).toBe('ERR_CONFIG_INVALID');
    expectNoTokenLeaks(browser, res.setCookies);
  });
});
