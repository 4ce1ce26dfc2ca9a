/**
 * AuthClient against a real OpenID Provider (oidc-provider, in-process on 127.0.0.1): every grant
 * with a success and a failure, `extra` sanitising, request options (headers, abort), ID token
 * validation options, and Auth0's mfa_required.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';

import { AuthClient, MfaRequiredError, OidcError } from '../../src/index.js';
import { authorize, startRedirectCatcher, type RedirectCatcher } from '../helpers/authorization-code.js';
import { freePort } from '../helpers/app.js';
import {
  DEFAULT_REALM,
  PASSWORD_REALM_GRANT,
  TEST_CLIENT_ID,
  TEST_CLIENT_SECRET,
  USERS,
  createTestOP,
  type TestOP,
} from '../helpers/op.js';

const AUDIENCE = 'https://api.example.com';
const M2M_POST_CLIENT = 'm2m-post-client';
const M2M_POST_SECRET = 'm2m-post-client-secret-that-is-long-enough-00';

let op: TestOP;
let catcher: RedirectCatcher;
let client: AuthClient;

beforeAll(async () => {
  const appPort = await freePort();
  op = await createTestOP({
    appBaseURL: `http://127.0.0.1:${appPort}`,
    extraClients: [
      {
        client_id: M2M_POST_CLIENT,
        client_secret: M2M_POST_SECRET,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
  });
  catcher = await startRedirectCatcher(op);
  client = new AuthClient({ issuerBaseURL: op.issuer, clientID: TEST_CLIENT_ID, clientSecret: TEST_CLIENT_SECRET, jwksCooldown: 0 });
});
afterAll(async () => {
  await catcher?.close();
  await op?.stop();
});
beforeEach(() => op.resetCounts());

/** The OidcError a promise rejects with (fails the test when it resolves or throws something else). */
async function rejection(promise: Promise<unknown>): Promise<OidcError> {
  const outcome = await promise.then(
    () => new Error('expected a rejection'),
    (err: unknown) => err,
  );
  if (!(outcome instanceof OidcError)) throw outcome;
  return outcome;
}

function lastTokenRequest() {
  const record = op.tokenRequests.at(-1);
  if (!record) throw new Error('the OP received no token request');
  return record;
}

/** An authorization code for test-client (no PKCE) with the given extra authorization parameters. */
function codeFor(params: Record<string, string>): Promise<URLSearchParams> {
  return authorize(op, { client_id: TEST_CLIENT_ID, redirect_uri: catcher.redirectUri, scope: 'openid profile', state: 'st', ...params });
}

describe('loginWithPassword', () => {
  test('returns a typed, validated token set (password grant)', async () => {
    const tokens = await client.loginWithPassword({
      username: USERS.alice.username,
      password: USERS.alice.password,
      scope: 'openid profile offline_access read:data',
      audience: AUDIENCE,
    });
    expect(tokens.tokenType).toBe('Bearer');
    expect(typeof tokens.accessToken).toBe('string');
    expect(decodeJwt(tokens.accessToken).aud).toBe(AUDIENCE);
    expect(typeof tokens.refreshToken).toBe('string');
    expect(tokens.expiresIn).toBeGreaterThan(0);
    expect(tokens.scope?.split(' ')).toEqual(expect.arrayContaining(['openid', 'read:data']));
    expect(tokens.idTokenClaims?.sub).toBe(USERS.alice.sub);
    const sent = lastTokenRequest();
    expect(sent.grantType).toBe('password');
    expect(sent.params.realm).toBeUndefined();
  });

  test('sends the password-realm grant when a realm is given', async () => {
    const tokens = await client.loginWithPassword({ username: USERS.alice.username, password: USERS.alice.password, scope: 'openid', realm: DEFAULT_REALM });
    expect(tokens.idTokenClaims?.sub).toBe(USERS.alice.sub);
    const sent = lastTokenRequest();
    expect(sent.grantType).toBe(PASSWORD_REALM_GRANT);
    expect(sent.params.realm).toBe(DEFAULT_REALM);
  });

  test('wrong password, unknown user and wrong realm fail with the OP error', async () => {
    for (const body of [
      { username: USERS.alice.username, password: 'wrong-password' },
      { username: 'nobody', password: 'whatever-password' },
      { username: USERS.alice.username, password: USERS.alice.password, realm: 'another-connection' },
    ]) {
      const err = await rejection(client.loginWithPassword({ ...body, scope: 'openid' }));
      expect(err.code).toBe('ERR_OP_ERROR');
      expect(err.error).toBe('invalid_grant');
      expect(err.status).toBe(403);
      expect(err.message).not.toContain(body.password);
    }
  });

  test('mfa_required throws MfaRequiredError carrying the mfa_token', async () => {
    const err = await rejection(client.loginWithPassword({ username: USERS.bob.username, password: USERS.bob.password, scope: 'openid' }));
    expect(err).toBeInstanceOf(MfaRequiredError);
    const mfa = err as MfaRequiredError;
    expect(mfa.code).toBe('ERR_MFA_REQUIRED');
    expect(mfa.error).toBe('mfa_required');
    expect(mfa.mfaToken).toMatch(/^[\w-]{20,}$/);
    // the token stays out of serialised forms of the error
    expect(JSON.stringify(mfa)).not.toContain(mfa.mfaToken);
  });

  test('auth0-forwarded-for reaches the OP; reserved headers cannot be replaced', async () => {
    await client.loginWithPassword(
      { username: USERS.alice.username, password: USERS.alice.password, scope: 'openid' },
      {},
      { headers: { 'auth0-forwarded-for': '203.0.113.7', authorization: 'Basic bm90OnRoaXM=' } },
    );
    const sent = lastTokenRequest();
    expect(sent.headers['auth0-forwarded-for']).toBe('203.0.113.7');
    expect(sent.headers.authorization).not.toBe('Basic bm90OnRoaXM=');
  });

  test('a header value with a line break is refused before anything is sent', async () => {
    const err = await rejection(
      client.loginWithPassword(
        { username: USERS.alice.username, password: USERS.alice.password },
        {},
        { headers: { 'auth0-forwarded-for': '203.0.113.7\r\nx-evil: 1' } },
      ),
    );
    expect(err.code).toBe('ERR_BAD_REQUEST');
    expect(err.message).not.toContain('203.0.113.7');
    expect(op.tokenRequests).toHaveLength(0);
  });

  test('missing username or password is a 400 without a request', async () => {
    const err = await rejection(client.loginWithPassword({ username: '', password: 'x' }));
    expect(err.code).toBe('ERR_BAD_REQUEST');
    expect(err.status).toBe(400);
    expect(op.tokenRequests).toHaveLength(0);
  });

  test('ID token validation options are enforced on the returned ID token', async () => {
    const body = { username: USERS.alice.username, password: USERS.alice.password, scope: 'openid' };
    for (const validation of [{ nonce: 'n-0123456789' }, { maxAge: 60 }, { organization: 'org_acme' }]) {
      const err = await rejection(client.loginWithPassword(body, validation));
      expect(err.code).toBe('ERR_ID_TOKEN_INVALID');
    }
  });
});

describe('loginWithAuthCode', () => {
  test('exchanges a code and checks nonce, max_age and organization', async () => {
    const back = await codeFor({ nonce: 'nonce-ok-123456', max_age: '300', organization: 'org_acme' });
    const code = back.get('code') as string;
    const tokens = await client.loginWithAuthCode(
      { code, redirectUri: catcher.redirectUri },
      { nonce: 'nonce-ok-123456', maxAge: 300, organization: 'org_acme' },
    );
    expect(tokens.idTokenClaims?.sub).toBe(USERS.alice.sub);
    expect(tokens.idTokenClaims?.org_id).toBe('org_acme');
    expect(typeof tokens.refreshToken).toBe('string');
    expect(lastTokenRequest().params.code).toBe(code);

    // A refreshed ID token may repeat the login's nonce; that is no reason to reject it.
    const refreshed = await client.refreshToken({ refreshToken: tokens.refreshToken as string });
    expect(refreshed.idTokenClaims?.sub).toBe(USERS.alice.sub);
  });

  test('a wrong nonce, an unasked nonce or another organization is rejected; a used code fails at the OP', async () => {
    let back = await codeFor({ nonce: 'nonce-one-123456' });
    let err = await rejection(client.loginWithAuthCode({ code: back.get('code') as string, redirectUri: catcher.redirectUri }, { nonce: 'another-nonce-0000' }));
    expect(err.code).toBe('ERR_ID_TOKEN_INVALID');
    // the OP already redeemed that code
    err = await rejection(client.loginWithAuthCode({ code: back.get('code') as string, redirectUri: catcher.redirectUri }, { nonce: 'nonce-one-123456' }));
    expect(err.code).toBe('ERR_OP_ERROR');
    expect(err.error).toBe('invalid_grant');

    back = await codeFor({ nonce: 'nonce-two-123456' });
    err = await rejection(client.loginWithAuthCode({ code: back.get('code') as string, redirectUri: catcher.redirectUri }));
    expect(err.code).toBe('ERR_ID_TOKEN_INVALID');

    back = await codeFor({ nonce: 'nonce-three-123456', organization: 'org_acme' });
    err = await rejection(
      client.loginWithAuthCode({ code: back.get('code') as string, redirectUri: catcher.redirectUri }, { nonce: 'nonce-three-123456', organization: 'org_other' }),
    );
    expect(err.code).toBe('ERR_ID_TOKEN_INVALID');
  });

  test('extra cannot override grant_type, client_id or what the method sets', async () => {
    const back = await codeFor({ nonce: 'nonce-extra-123456' });
    const tokens = await client.loginWithAuthCode(
      {
        code: back.get('code') as string,
        redirectUri: catcher.redirectUri,
        extra: { grant_type: 'password', client_id: 'public-client', client_secret: 'x', code: 'forged', custom: 'kept' },
      },
      { nonce: 'nonce-extra-123456' },
    );
    expect(tokens.idTokenClaims?.sub).toBe(USERS.alice.sub);
    const sent = lastTokenRequest();
    expect(sent.grantType).toBe('authorization_code');
    expect(sent.params.code).toBe(back.get('code'));
    expect(sent.params.client_id).toBeUndefined(); // client_secret_basic: the client is in the Authorization header
    expect(sent.params.client_secret).toBeUndefined();
    expect(sent.params.custom).toBe('kept');
    expect(String(sent.headers.authorization)).toMatch(/^Basic /);
  });
});

describe('loginWithAuthCodeWithPKCE', () => {
  test('exchanges a code with its verifier for a public client', async () => {
    const verifier = oidc.randomPKCECodeVerifier();
    const back = await authorize(op, {
      client_id: 'public-client',
      redirect_uri: catcher.redirectUri,
      scope: 'openid',
      nonce: 'nonce-pkce-123456',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const tokens = await client.loginWithAuthCodeWithPKCE(
      { code: back.get('code') as string, codeVerifier: verifier, redirectUri: catcher.redirectUri, clientID: 'public-client' },
      { nonce: 'nonce-pkce-123456' },
    );
    expect(tokens.idTokenClaims?.aud).toBe('public-client');
    const sent = lastTokenRequest();
    expect(sent.params.client_id).toBe('public-client');
    expect(sent.params.code_verifier).toBe(verifier);
    expect(sent.headers.authorization).toBeUndefined();
  });

  test('a wrong verifier fails at the OP', async () => {
    const verifier = oidc.randomPKCECodeVerifier();
    const back = await authorize(op, {
      client_id: 'public-client',
      redirect_uri: catcher.redirectUri,
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const err = await rejection(
      client.loginWithAuthCodeWithPKCE({
        code: back.get('code') as string,
        codeVerifier: oidc.randomPKCECodeVerifier(),
        redirectUri: catcher.redirectUri,
        clientID: 'public-client',
      }),
    );
    expect(err.code).toBe('ERR_OP_ERROR');
    expect(err.error).toBe('invalid_grant');
  });
});

describe('loginWithClientCredentials', () => {
  test('gets an access token for the audience, in an organization', async () => {
    const tokens = await client.loginWithClientCredentials({ audience: AUDIENCE, organization: 'org_acme' });
    expect(tokens.tokenType).toBe('Bearer');
    expect(tokens.idToken).toBeUndefined();
    expect(tokens.expiresIn).toBeGreaterThan(0);
    const claims = decodeJwt(tokens.accessToken);
    expect(claims.aud).toBe(AUDIENCE);
    expect(claims.org_id).toBe('org_acme');
    const sent = lastTokenRequest();
    expect(sent.grantType).toBe('client_credentials');
    expect(sent.params.audience).toBe(AUDIENCE);
  });

  test('another client ID with its secret (posted); extra cannot replace client_id or grant_type', async () => {
    const tokens = await client.loginWithClientCredentials({
      audience: AUDIENCE,
      clientID: M2M_POST_CLIENT,
      clientSecret: M2M_POST_SECRET,
      extra: { client_id: TEST_CLIENT_ID, grant_type: 'password', client_secret: TEST_CLIENT_SECRET },
    });
    expect(decodeJwt(tokens.accessToken).client_id).toBe(M2M_POST_CLIENT);
    const sent = lastTokenRequest();
    expect(sent.grantType).toBe('client_credentials');
    expect(sent.params.client_id).toBe(M2M_POST_CLIENT);
    expect(sent.params.client_secret).toBe(M2M_POST_SECRET);
  });

  test('a wrong secret fails at the OP; no audience or no secret fails before it', async () => {
    const err = await rejection(client.loginWithClientCredentials({ audience: AUDIENCE, clientSecret: 'not-the-secret-of-this-client-0000' }));
    expect(err.code).toBe('ERR_OP_ERROR');
    expect(err.error).toBe('invalid_client');
    expect(err.status).toBe(401);
    expect(err.message).not.toContain('not-the-secret');
    const sentSoFar = op.tokenRequests.length;

    expect((await rejection(client.loginWithClientCredentials({ audience: '' }))).code).toBe('ERR_BAD_REQUEST');
    const publicClient = new AuthClient({ issuerBaseURL: op.issuer, clientID: 'public-client' });
    const noSecret = await rejection(publicClient.loginWithClientCredentials({ audience: AUDIENCE }));
    expect(noSecret.code).toBe('ERR_BAD_REQUEST');
    expect(noSecret.message).toContain('clientSecret');
    expect(op.tokenRequests).toHaveLength(sentSoFar);
  });
});

describe('loginWithGrant', () => {
  test('runs any grant, validating the ID token that comes back', async () => {
    const tokens = await client.loginWithGrant('password', { username: USERS.alice.username, password: USERS.alice.password, scope: 'openid' });
    expect(tokens.idTokenClaims?.sub).toBe(USERS.alice.sub);
    const m2m = await client.loginWithGrant('client_credentials', { audience: AUDIENCE });
    expect(decodeJwt(m2m.accessToken).aud).toBe(AUDIENCE);
  });

  test('an unknown grant fails at the OP', async () => {
    const err = await rejection(client.loginWithGrant('urn:example:grant-type:unknown', { foo: 'bar' }));
    expect(err.code).toBe('ERR_OP_ERROR');
    expect(err.error).toBe('unsupported_grant_type');
  });

  test('the body cannot set grant_type or the client credentials', async () => {
    await client.loginWithGrant('password', {
      grant_type: 'client_credentials',
      client_id: 'm2m-client',
      client_secret: 'forged',
      client_assertion: 'forged',
      username: USERS.alice.username,
      password: USERS.alice.password,
      scope: 'openid',
    });
    const sent = lastTokenRequest();
    expect(sent.grantType).toBe('password');
    expect(sent.params.client_id).toBeUndefined();
    expect(sent.params.client_secret).toBeUndefined();
    expect(sent.params.client_assertion).toBeUndefined();
    const basic = Buffer.from(String(sent.headers.authorization).replace(/^Basic /, ''), 'base64').toString();
    expect(decodeURIComponent(basic.split(':')[0] as string)).toBe(TEST_CLIENT_ID);
  });
});

describe('refreshToken', () => {
  test('refreshes, with a reduced scope', async () => {
    const first = await client.loginWithPassword({ username: USERS.alice.username, password: USERS.alice.password, scope: 'openid profile offline_access' });
    const refreshed = await client.refreshToken({ refreshToken: first.refreshToken as string, scope: 'openid' });
    expect(refreshed.accessToken).not.toBe(first.accessToken);
    expect(refreshed.scope).toBe('openid');
    expect(refreshed.idTokenClaims?.sub).toBe(USERS.alice.sub);
    const sent = lastTokenRequest();
    expect(sent.grantType).toBe('refresh_token');
    expect(sent.params.scope).toBe('openid');
  });

  test('an unknown refresh token fails with invalid_grant; validation options apply', async () => {
    const err = await rejection(client.refreshToken({ refreshToken: 'not-a-refresh-token' }));
    expect(err.code).toBe('ERR_OP_ERROR');
    expect(err.error).toBe('invalid_grant');

    const first = await client.loginWithPassword({ username: USERS.alice.username, password: USERS.alice.password, scope: 'openid offline_access' });
    const wrongOrg = await rejection(client.refreshToken({ refreshToken: first.refreshToken as string }, { organization: 'org_acme' }));
    expect(wrongOrg.code).toBe('ERR_ID_TOKEN_INVALID');
  });
});

describe('revokeRefreshToken', () => {
  test('revokes: the token no longer refreshes', async () => {
    const first = await client.loginWithPassword({ username: USERS.alice.username, password: USERS.alice.password, scope: 'openid offline_access' });
    await client.revokeRefreshToken({ refreshToken: first.refreshToken as string });
    expect(op.counts.revocation).toBe(1);
    const err = await rejection(client.refreshToken({ refreshToken: first.refreshToken as string }));
    expect(err.error).toBe('invalid_grant');
  });

  test('a wrong client secret fails at the OP', async () => {
    const first = await client.loginWithPassword({ username: USERS.alice.username, password: USERS.alice.password, scope: 'openid offline_access' });
    const err = await rejection(client.revokeRefreshToken({ refreshToken: first.refreshToken as string, clientSecret: 'not-the-secret-of-this-client-0000' }));
    expect(err.code).toBe('ERR_OP_ERROR');
    expect(err.error).toBe('invalid_client');
    // still valid
    await expect(client.refreshToken({ refreshToken: first.refreshToken as string })).resolves.toBeDefined();
  });
});

describe('pushedAuthorization', () => {
  test('returns a request_uri that /authorize accepts, and its lifetime', async () => {
    const verifier = oidc.randomPKCECodeVerifier();
    const pushed = await client.pushedAuthorization({
      redirectUri: catcher.redirectUri,
      scope: 'openid profile',
      nonce: 'nonce-par-123456',
      organization: 'org_acme',
      codeChallenge: await oidc.calculatePKCECodeChallenge(verifier),
      extra: { client_id: 'public-client', state: 'par-state' },
    });
    expect(pushed.requestUri).toMatch(/^urn:ietf:params:oauth:request_uri:/);
    expect(pushed.expiresIn).toBeGreaterThan(0);
    expect(op.counts.par).toBe(1);

    const back = await authorize(op, { client_id: TEST_CLIENT_ID, request_uri: pushed.requestUri });
    expect(back.get('state')).toBe('par-state');
    const tokens = await client.loginWithAuthCodeWithPKCE(
      { code: back.get('code') as string, codeVerifier: verifier, redirectUri: catcher.redirectUri },
      { nonce: 'nonce-par-123456', organization: 'org_acme' },
    );
    expect(tokens.idTokenClaims?.aud).toBe(TEST_CLIENT_ID);
  });

  test('an unregistered redirect URI fails at the OP', async () => {
    const err = await rejection(client.pushedAuthorization({ redirectUri: 'https://evil.example/callback', scope: 'openid' }));
    expect(err.code).toBe('ERR_OP_ERROR');
    expect(err.error).toBe('invalid_request');
    expect(err.errorDescription).toMatch(/redirect_uri/);
  });
});

describe('request options', () => {
  test('an already aborted signal sends nothing', async () => {
    const err = await rejection(client.loginWithClientCredentials({ audience: AUDIENCE }, {}, { signal: AbortSignal.abort() }));
    expect(err.code).toBe('ERR_ABORTED');
    expect(op.tokenRequests).toHaveLength(0);
  });

  test('aborting while the token request is in flight rejects with ERR_ABORTED', async () => {
    await client.serverMetadata(); // discovery cached: the next call goes straight to the token endpoint
    const controller = new AbortController();
    const pending = client.loginWithPassword({ username: USERS.alice.username, password: USERS.alice.password }, {}, { signal: controller.signal });
    setImmediate(() => controller.abort());
    const err = await rejection(pending);
    expect(err.code).toBe('ERR_ABORTED');
  });

  test('aborting during discovery stops that caller only; discovery still completes once', async () => {
    const fresh = new AuthClient({ issuerBaseURL: op.issuer, clientID: TEST_CLIENT_ID, clientSecret: TEST_CLIENT_SECRET });
    const controller = new AbortController();
    const aborted = fresh.loginWithClientCredentials({ audience: AUDIENCE }, {}, { signal: controller.signal });
    const other = fresh.loginWithClientCredentials({ audience: AUDIENCE });
    controller.abort();
    expect((await rejection(aborted)).code).toBe('ERR_ABORTED');
    expect(decodeJwt((await other).accessToken).aud).toBe(AUDIENCE);
    expect(op.counts.discovery).toBe(1);
    expect(op.counts.token.client_credentials).toBe(1);
  });
});
