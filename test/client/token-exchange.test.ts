/**
 * AuthClient.customTokenExchange (RFC 8693, Auth0 Custom Token Exchange) and
 * AuthClient.getAccessTokenForConnection (Auth0 Token Vault) against the real test OP: the request
 * shapes as the OP received them (grant type, parameters, client authentication, DPoP proof), the
 * refusals before any request and by the OP, full ID token validation, and no token in a message,
 * JSON rendering or inspection of a result.
 */
import { inspect } from 'node:util';

import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { decodeJwt } from 'jose';

import { AuthClient, OidcError } from '../../src/index.js';
import {
  ACCESS_TOKEN_TYPE,
  CUSTOM_SUBJECT_TOKEN_TYPE,
  FEDERATED_CONNECTION_GRANT,
  FEDERATED_CONNECTION_TOKEN_TYPE,
  ID_TOKEN_TYPE,
  REFRESH_TOKEN_TYPE,
  TEST_CLIENT_ID,
  TEST_CLIENT_SECRET,
  TOKEN_EXCHANGE_GRANT,
  USERS,
  createTestOP,
  customSubjectToken,
  type TestOP,
} from '../helpers/op.js';

const AUDIENCE = 'https://api.example.com';

/** The client ID and secret of an HTTP Basic header (form-urlencoded inside, RFC 6749 section 2.3.1). */
function basicCredentials(header: unknown): [string, string] {
  const match = /^Basic (.+)$/.exec(String(header));
  const [id, secret] = Buffer.from(match?.[1] ?? '', 'base64').toString('utf8').split(':');
  return [decodeURIComponent(id ?? ''), decodeURIComponent(secret ?? '')];
}

let op: TestOP;
let client: AuthClient;

beforeAll(async () => {
  op = await createTestOP();
  client = new AuthClient({ issuerBaseURL: op.issuer, clientID: TEST_CLIENT_ID, clientSecret: TEST_CLIENT_SECRET });
});
afterAll(async () => {
  await op?.stop();
});
beforeEach(() => {
  op.tamperIdToken(null);
  op.resetCounts();
});

async function rejection(promise: Promise<unknown>): Promise<OidcError> {
  const outcome = await promise.then(
    () => new Error('expected a rejection'),
    (err: unknown) => err,
  );
  if (!(outcome instanceof OidcError)) throw outcome;
  return outcome;
}

function exchangeRequests() {
  return op.tokenRequests.filter((r) => r.grantType === TOKEN_EXCHANGE_GRANT || r.grantType === FEDERATED_CONNECTION_GRANT);
}

function onlyExchangeRequest() {
  const requests = exchangeRequests();
  expect(requests).toHaveLength(1);
  return requests[0] as (typeof requests)[number];
}

/** Alice's tokens from a password login (with a refresh token). */
function aliceTokens() {
  return client.loginWithPassword({ username: USERS.alice.username, password: USERS.alice.password, scope: 'openid profile offline_access' });
}

describe('customTokenExchange', () => {
  test('sends an RFC 8693 grant with every field, authenticated like any grant, and returns the issued token', async () => {
    const tokens = await client.customTokenExchange({
      subjectToken: customSubjectToken(USERS.alice.sub),
      subjectTokenType: CUSTOM_SUBJECT_TOKEN_TYPE,
      requestedTokenType: ACCESS_TOKEN_TYPE,
      audience: AUDIENCE,
      scope: 'read:data',
      organization: 'org_acme',
      extra: { reason: 'ticket-1234', attempt: 2, dryRun: false },
    });

    const request = onlyExchangeRequest();
    expect(request.grantType).toBe(TOKEN_EXCHANGE_GRANT);
    expect(request.params).toEqual({
      grant_type: TOKEN_EXCHANGE_GRANT,
      subject_token: customSubjectToken(USERS.alice.sub),
      subject_token_type: CUSTOM_SUBJECT_TOKEN_TYPE,
      requested_token_type: ACCESS_TOKEN_TYPE,
      audience: AUDIENCE,
      scope: 'read:data',
      organization: 'org_acme',
      reason: 'ticket-1234',
      attempt: '2',
      dryRun: 'false',
    });
    // client_secret_basic: the secret is in the header, never in the body
    expect(basicCredentials(request.headers.authorization)).toEqual([TEST_CLIENT_ID, TEST_CLIENT_SECRET]);
    expect(request.headers.dpop).toBeUndefined();

    expect(tokens.issuedTokenType).toBe(ACCESS_TOKEN_TYPE);
    expect(tokens.tokenType).toBe('Bearer');
    expect(tokens.expiresIn).toBe(3600);
    expect(tokens.act).toBeUndefined();
    const claims = decodeJwt(tokens.accessToken);
    expect(claims).toMatchObject({ sub: USERS.alice.sub, aud: AUDIENCE, org_id: 'org_acme', scope: 'read:data' });
  });

  test('defaults the subject token type to an access token', async () => {
    const { accessToken } = await client.loginWithClientCredentials({ audience: AUDIENCE });
    // a client credentials token stands for no user: the OP refuses it, but the shape is what counts here
    await rejection(client.customTokenExchange({ subjectToken: accessToken, audience: AUDIENCE }));
    expect(onlyExchangeRequest().params.subject_token_type).toBe(ACCESS_TOKEN_TYPE);
  });

  test('an actor token (with its type) gives a delegated token whose act claim is returned', async () => {
    const alice = await aliceTokens();
    const tokens = await client.customTokenExchange({
      subjectToken: customSubjectToken(USERS.bob.sub),
      subjectTokenType: CUSTOM_SUBJECT_TOKEN_TYPE,
      actorToken: alice.idToken as string,
      actorTokenType: ID_TOKEN_TYPE,
      audience: AUDIENCE,
    });
    const request = onlyExchangeRequest();
    expect(request.params.actor_token).toBe(alice.idToken);
    expect(request.params.actor_token_type).toBe(ID_TOKEN_TYPE);
    expect(tokens.act).toEqual({ sub: USERS.alice.sub });
    expect(decodeJwt(tokens.accessToken).sub).toBe(USERS.bob.sub);
  });

  test('an actor token without its type is refused before any request', async () => {
    const err = await rejection(
      client.customTokenExchange({ subjectToken: customSubjectToken(USERS.alice.sub), subjectTokenType: CUSTOM_SUBJECT_TOKEN_TYPE, actorToken: 'actor-token-value' }),
    );
    expect(err.code).toBe('ERR_TOKEN_EXCHANGE_INVALID');
    expect(err.status).toBe(400);
    expect(err.message).toContain('actorTokenType');
    expect(err.message).not.toContain('actor-token-value');
    expect(exchangeRequests()).toHaveLength(0);
  });

  test.each([
    ['no subject token', {}],
    ['a blank subject token', { subjectToken: '  ' }],
    ['a Bearer prefix', { subjectToken: 'Bearer abc.def' }],
    ['an actor type without an actor token', { subjectToken: 'secret-subject', actorTokenType: ID_TOKEN_TYPE }],
    ['a blank organization', { subjectToken: 'secret-subject', organization: ' ' }],
    ['extra setting grant_type', { subjectToken: 'secret-subject', extra: { grant_type: 'client_credentials' } }],
    ['extra setting client_id', { subjectToken: 'secret-subject', extra: { client_id: 'other-client' } }],
    ['extra setting client_secret', { subjectToken: 'secret-subject', extra: { client_secret: 'guess' } }],
    ['extra setting client_assertion', { subjectToken: 'secret-subject', extra: { client_assertion: 'x' } }],
    ['extra setting a named field', { subjectToken: 'secret-subject', extra: { subject_token: 'other' } }],
    ['extra setting audience', { subjectToken: 'secret-subject', extra: { audience: 'https://elsewhere.example.com' } }],
  ])('%s is refused before any request, naming no token', async (_name, request) => {
    const err = await rejection(client.customTokenExchange(request as never));
    expect(err.code).toBe('ERR_TOKEN_EXCHANGE_INVALID');
    expect(err.status).toBe(400);
    expect(err.message).not.toContain('secret-subject');
    expect(exchangeRequests()).toHaveLength(0);
  });

  test.each([
    ['express-openid-connect option names', { subject_token: 'secret-subject' }, 'unknown field "subject_token" (did you mean "subjectToken"?)'],
    ['an extra value that is an object', { subjectToken: 'secret-subject', extra: { nested: { a: 1 } } }, '"extra.nested" must be a string'],
  ])('%s is a call made wrongly: a 500 for the developer, naming the field', async (_name, request, message) => {
    const err = await rejection(client.customTokenExchange(request as never));
    expect(err.code).toBe('ERR_CONFIG_INVALID');
    expect(err.status).toBe(500);
    expect(err.expose).toBe(false);
    expect(err.message).toContain(message);
    expect(err.message).not.toContain('secret-subject');
    expect(exchangeRequests()).toHaveLength(0);
  });

  test('the OP refusing the subject token gives ERR_TOKEN_EXCHANGE_FAILED with its error, without the token', async () => {
    const err = await rejection(
      client.customTokenExchange({ subjectToken: 'subject:auth0|nobody', subjectTokenType: CUSTOM_SUBJECT_TOKEN_TYPE, audience: AUDIENCE }),
    );
    expect(onlyExchangeRequest().params.subject_token).toBe('subject:auth0|nobody');
    expect(err.code).toBe('ERR_TOKEN_EXCHANGE_FAILED');
    expect(err.status).toBe(400);
    expect(err.error).toBe('invalid_grant');
    expect(`${err.message} ${JSON.stringify(err)} ${inspect(err)}`).not.toContain('nobody');
  });

  test('an ID token in the answer is fully validated', async () => {
    const tokens = await client.customTokenExchange({
      subjectToken: customSubjectToken(USERS.alice.sub),
      subjectTokenType: CUSTOM_SUBJECT_TOKEN_TYPE,
      scope: 'openid profile',
    });
    expect(tokens.idTokenClaims).toMatchObject({ sub: USERS.alice.sub, aud: TEST_CLIENT_ID, iss: op.issuer });

    for (const tampering of [
      () => ({ signWith: 'foreign' as const }),
      (claims: Record<string, unknown>) => ({ claims: { ...claims, aud: 'other-client' } }),
      (claims: Record<string, unknown>) => ({ claims: { ...claims, iss: 'https://evil.example.com' } }),
      (claims: Record<string, unknown>) => ({ claims: { ...claims, exp: Math.floor(Date.now() / 1000) - 3600 } }),
    ]) {
      op.tamperIdToken(tampering);
      const err = await rejection(
        client.customTokenExchange({ subjectToken: customSubjectToken(USERS.alice.sub), subjectTokenType: CUSTOM_SUBJECT_TOKEN_TYPE, scope: 'openid' }),
      );
      expect(err.code).toBe('ERR_ID_TOKEN_INVALID');
    }
  });

  test('the result keeps its tokens out of JSON and inspection', async () => {
    const tokens = await client.customTokenExchange({
      subjectToken: customSubjectToken(USERS.alice.sub),
      subjectTokenType: CUSTOM_SUBJECT_TOKEN_TYPE,
      scope: 'openid',
    });
    const rendered = `${JSON.stringify(tokens)} ${inspect(tokens, { depth: 5 })}`;
    expect(rendered).not.toContain(tokens.accessToken);
    expect(rendered).not.toContain(tokens.idToken as string);
    expect(rendered).toContain(ACCESS_TOKEN_TYPE);
  });
});

describe('customTokenExchange with DPoP', () => {
  let dpopOP: TestOP;
  afterAll(async () => {
    await dpopOP?.stop();
  });

  test('sends a DPoP proof for the token endpoint and gets a token bound to the key', async () => {
    dpopOP = await createTestOP({ dpop: true });
    const dpopClient = new AuthClient({ issuerBaseURL: dpopOP.issuer, clientID: TEST_CLIENT_ID, clientSecret: TEST_CLIENT_SECRET, useDPoP: true });
    const tokens = await dpopClient.customTokenExchange({
      subjectToken: customSubjectToken(USERS.alice.sub),
      subjectTokenType: CUSTOM_SUBJECT_TOKEN_TYPE,
      audience: AUDIENCE,
    });
    const request = dpopOP.tokenRequests.find((r) => r.grantType === TOKEN_EXCHANGE_GRANT);
    const proof = decodeJwt(request?.headers.dpop as string);
    expect(proof).toMatchObject({ htm: 'POST', htu: `${dpopOP.issuer}/token` });
    expect(tokens.tokenType).toBe('DPoP');
    expect(decodeJwt(tokens.accessToken).cnf).toEqual({ jkt: await dpopClient.dpopThumbprint() });

    // Token Vault requests carry a proof too
    const alice = await dpopClient.loginWithPassword({ username: USERS.alice.username, password: USERS.alice.password, scope: 'openid offline_access' });
    await dpopClient.getAccessTokenForConnection({ connection: 'github', refreshToken: alice.refreshToken as string });
    const vault = dpopOP.tokenRequests.find((r) => r.grantType === FEDERATED_CONNECTION_GRANT);
    expect(decodeJwt(vault?.headers.dpop as string)).toMatchObject({ htm: 'POST', htu: `${dpopOP.issuer}/token` });
  });
});

describe('getAccessTokenForConnection', () => {
  test("exchanges the user's refresh token in Auth0's shape; the refresh token stays valid", async () => {
    const alice = await aliceTokens();
    op.resetCounts();
    const tokens = await client.getAccessTokenForConnection({ connection: 'google-oauth2', refreshToken: alice.refreshToken as string, loginHint: 'alice@gmail.example' });

    const request = onlyExchangeRequest();
    expect(request.grantType).toBe(FEDERATED_CONNECTION_GRANT);
    expect(request.params).toEqual({
      grant_type: FEDERATED_CONNECTION_GRANT,
      subject_token: alice.refreshToken,
      subject_token_type: REFRESH_TOKEN_TYPE,
      requested_token_type: FEDERATED_CONNECTION_TOKEN_TYPE,
      connection: 'google-oauth2',
      login_hint: 'alice@gmail.example',
    });
    expect(basicCredentials(request.headers.authorization)).toEqual([TEST_CLIENT_ID, TEST_CLIENT_SECRET]);
    expect(tokens).toMatchObject({ connection: 'google-oauth2', tokenType: 'Bearer', issuedTokenType: FEDERATED_CONNECTION_TOKEN_TYPE, expiresIn: 3600 });
    expect(tokens.accessToken).toMatch(/^google-oauth2-at-/);
    const rendered = `${JSON.stringify(tokens)} ${inspect(tokens)}`;
    expect(rendered).not.toContain(tokens.accessToken);

    // presented, not redeemed: the refresh grant still takes it
    await expect(client.refreshToken({ refreshToken: alice.refreshToken as string })).resolves.toMatchObject({ tokenType: 'Bearer' });
  });

  test('no login_hint is sent when none is given', async () => {
    const alice = await aliceTokens();
    op.resetCounts();
    await client.getAccessTokenForConnection({ connection: 'github', refreshToken: alice.refreshToken as string });
    expect(onlyExchangeRequest().params).not.toHaveProperty('login_hint');
  });

  test('the OP refusing gives ERR_CONNECTION_TOKEN_FAILED with its error, without the refresh token', async () => {
    const alice = await aliceTokens();
    op.resetCounts();
    const unknown = await rejection(client.getAccessTokenForConnection({ connection: 'dropbox', refreshToken: alice.refreshToken as string }));
    expect(unknown.code).toBe('ERR_CONNECTION_TOKEN_FAILED');
    expect(unknown.error).toBe('federated_connection_refresh_token_not_found');
    expect(unknown.status).toBe(401);

    const forged = await rejection(client.getAccessTokenForConnection({ connection: 'github', refreshToken: 'not-a-refresh-token' }));
    expect(forged.code).toBe('ERR_CONNECTION_TOKEN_FAILED');
    expect(forged.error).toBe('invalid_grant');
    for (const err of [unknown, forged]) {
      const rendered = `${err.message} ${JSON.stringify(err)} ${inspect(err)}`;
      expect(rendered).not.toContain(alice.refreshToken as string);
      expect(rendered).not.toContain('not-a-refresh-token');
    }
  });

  test.each([
    ['no connection', { refreshToken: 'rt-value' }],
    ['no refresh token', { connection: 'github' }],
    ['a blank login hint', { connection: 'github', refreshToken: 'rt-value', loginHint: '' }],
    ['an unknown field', { connection: 'github', refreshToken: 'rt-value', scope: 'repo' }],
  ])('%s is refused before any request', async (_name, request) => {
    const err = await rejection(client.getAccessTokenForConnection(request as never));
    expect(err.code).toBe('scope' in request ? 'ERR_CONFIG_INVALID' : 'ERR_TOKEN_EXCHANGE_INVALID');
    expect(err.message).not.toContain('rt-value');
    expect(exchangeRequests()).toHaveLength(0);
  });
});
