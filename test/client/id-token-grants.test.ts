/**
 * Every AuthClient path that returns an ID token without openid-client's code-flow checks in
 * front relies on validateIdToken: the password and password-realm grants, any grant through
 * loginWithGrant, the refresh grant, and AuthClient.validateIdToken. Each is driven against the
 * real test OP, whose token endpoint returns tampered ID tokens (tamperIdToken), or with tokens
 * signed here with the OP's own keys. No browser sign-in: every test runs in milliseconds.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { importJWK, SignJWT, type JWK, type JWTPayload } from 'jose';

import { AuthClient, OidcError } from '../../src/index.js';
import { DEFAULT_REALM, PASSWORD_REALM_GRANT, TEST_CLIENT_ID, TEST_CLIENT_SECRET, USERS, createTestOP, type IdTokenTamperer, type TestOP } from '../helpers/op.js';

let op: TestOP;
let client: AuthClient;

beforeAll(async () => {
  op = await createTestOP();
  client = new AuthClient({ issuerBaseURL: op.issuer, clientID: TEST_CLIENT_ID, clientSecret: TEST_CLIENT_SECRET, jwksCooldown: 0 });
});
afterAll(async () => {
  await op?.stop();
});
afterEach(() => op.tamperIdToken(null));

const now = () => Math.floor(Date.now() / 1000);
const alice = { username: USERS.alice.username, password: USERS.alice.password };

async function rejection(promise: Promise<unknown>): Promise<OidcError> {
  const outcome = await promise.then(
    () => new Error('expected a rejection'),
    (err: unknown) => err,
  );
  if (!(outcome instanceof OidcError)) throw outcome;
  return outcome;
}

/** Tamperings openid-client does not look at on a token endpoint response: only this library refuses them. */
/** Each with the expected status: 400 for a bad token, 502 for a time claim beyond the clock tolerance (the clocks differ). */
const tamperings: Array<[string, IdTokenTamperer, RegExp, number]> = [
  ['signed by a key the OP does not publish', () => ({ signWith: 'foreign' }), /signature verification failed/, 400],
  ['not signed at all (random signature bytes)', () => ({ signWith: 'none' }), /signature verification failed/, 400],
  ['with an empty sub', (claims) => ({ claims: { ...claims, sub: '' } }), /"sub"/, 400],
  ['issued in the future', (claims) => ({ claims: { ...claims, iat: now() + 3600, exp: now() + 7200 } }), /"iat" is 3[56]\d\d s in the future, beyond clockTolerance \(\d+ s\)/, 502],
  ['with an unexpected nonce', (claims) => ({ claims: { ...claims, nonce: 'a-nonce-of-another-login' } }), /nonce/, 400],
  ['with several audiences and no azp', (claims) => ({ claims: { ...claims, aud: [TEST_CLIENT_ID, 'another-client'], azp: undefined } }), /"azp"|"aud"/, 400],
];

describe.each([
  ['the password grant', () => client.loginWithPassword({ ...alice, scope: 'openid' })],
  ['the password-realm grant', () => client.loginWithPassword({ ...alice, scope: 'openid', realm: DEFAULT_REALM })],
  ['loginWithGrant', () => client.loginWithGrant(PASSWORD_REALM_GRANT, { ...alice, scope: 'openid', realm: DEFAULT_REALM })],
])('%s refuses an ID token', (_name, login) => {
  test.each(tamperings)('%s', async (_what, fn, reason, status) => {
    op.tamperIdToken(fn);
    const err = await rejection(login());
    expect(err.code).toBe('ERR_ID_TOKEN_INVALID');
    expect(err.status).toBe(status);
    expect(err.message).toMatch(reason);
  });
});

describe('the refresh grant', () => {
  test('refuses a forged ID token', async () => {
    const first = await client.loginWithPassword({ ...alice, scope: 'openid offline_access' });
    op.tamperIdToken(() => ({ signWith: 'foreign' }));
    const err = await rejection(client.refreshToken({ refreshToken: first.refreshToken as string }, { expectedSubject: USERS.alice.sub }));
    expect(err.code).toBe('ERR_ID_TOKEN_INVALID');
    expect(err.message).toMatch(/signature verification failed/);
  });

  test("refuses an ID token about another user than the session's (no session switch)", async () => {
    const first = await client.loginWithPassword({ ...alice, scope: 'openid offline_access' });
    op.tamperIdToken((claims) => ({ claims: { ...claims, sub: USERS.bob.sub } }));
    const err = await rejection(client.refreshToken({ refreshToken: first.refreshToken as string }, { expectedSubject: USERS.alice.sub }));
    expect(err.code).toBe('ERR_ID_TOKEN_INVALID');
    expect(err.message).toBe('ID token invalid: "sub" differs from the session\'s user');
  });

  test('accepts the refreshed ID token of the same user, which may repeat the login nonce', async () => {
    const first = await client.loginWithPassword({ ...alice, scope: 'openid offline_access' });
    op.tamperIdToken((claims) => ({ claims: { ...claims, nonce: 'the-nonce-of-the-login' } }));
    const refreshed = await client.refreshToken({ refreshToken: first.refreshToken as string }, { expectedSubject: USERS.alice.sub });
    expect(refreshed.idTokenClaims?.sub).toBe(USERS.alice.sub);
  });
});

describe('AuthClient.validateIdToken', () => {
  async function signedByOP(overrides: Record<string, unknown>): Promise<string> {
    const jwk = op.signingKeys().privateJwks[0] as JWK;
    const payload: JWTPayload = { iss: op.issuer, aud: TEST_CLIENT_ID, sub: USERS.alice.sub, iat: now(), exp: now() + 300, ...overrides };
    return new SignJWT(payload).setProtectedHeader({ alg: jwk.alg as string, kid: jwk.kid as string }).sign(await importJWK(jwk, jwk.alg));
  }

  test("checks the OP's signature and this client's settings", async () => {
    await expect(client.validateIdToken(await signedByOP({}))).resolves.toMatchObject({ sub: USERS.alice.sub });
    const checks: Array<[Record<string, unknown>, RegExp]> = [
      [{ iss: 'http://127.0.0.1:1' }, /"iss"/],
      [{ aud: 'another-client' }, /"aud"/],
      [{ exp: now() - 3600, iat: now() - 7200 }, /"exp"/],
      [{ iat: now() + 3600, exp: now() + 7200 }, /"iat"/],
    ];
    for (const [overrides, reason] of checks) {
      const err = await rejection(client.validateIdToken(await signedByOP(overrides)));
      expect([err.code, err.message]).toEqual(['ERR_ID_TOKEN_INVALID', expect.stringMatching(reason)]);
    }
  });

  test('checks the expected subject and max_age', async () => {
    const bob = await signedByOP({ sub: USERS.bob.sub });
    expect((await rejection(client.validateIdToken(bob, { expectedSubject: USERS.alice.sub }))).message).toMatch(/"sub" differs/);
    const old = await signedByOP({ auth_time: now() - 3600 });
    expect((await rejection(client.validateIdToken(old, { maxAge: 60 }))).message).toMatch(/max_age/);
  });
});
