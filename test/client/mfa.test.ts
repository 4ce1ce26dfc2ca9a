/**
 * Auth0's MFA API on AuthClient against the real test OP: a password grant answers mfa_required
 * for bob, who has an authenticator app (TOTP), an SMS factor and a recovery code; each grant
 * finishes the login, and its ID token is validated like every other.
 */
import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';

import { AuthClient, MfaRequiredError, OidcError } from '../../src/index.js';
import { freePort } from '../helpers/app.js';
import { TEST_CLIENT_ID, TEST_CLIENT_SECRET, USERS, createTestOP, type TestOP } from '../helpers/op.js';
import { MFA_OOB_GRANT, MFA_OTP_GRANT, MFA_RECOVERY_CODE_GRANT } from '../helpers/op/mfa.js';
import { totp } from '../helpers/totp.js';

let op: TestOP;
let client: AuthClient;
const OTP_SECRET = USERS.bob.otpSecret;

beforeAll(async () => {
  op = await createTestOP({ appBaseURL: `http://127.0.0.1:${await freePort()}` });
  client = new AuthClient({ issuerBaseURL: op.issuer, clientID: TEST_CLIENT_ID, clientSecret: TEST_CLIENT_SECRET, jwksCooldown: 0 });
});
afterAll(async () => {
  await op?.stop();
});
beforeEach(() => {
  op.resetCounts();
  op.tamperIdToken(null);
});

async function rejection(promise: Promise<unknown>): Promise<OidcError> {
  const outcome = await promise.then(
    () => new Error('expected a rejection'),
    (err: unknown) => err,
  );
  if (!(outcome instanceof OidcError)) throw outcome;
  return outcome;
}

/** bob's password: the OP answers mfa_required; the mfa_token to continue with. */
async function mfaToken(): Promise<string> {
  const err = await rejection(client.loginWithPassword({ username: USERS.bob.username, password: USERS.bob.password, scope: 'openid profile offline_access' }));
  expect(err).toBeInstanceOf(MfaRequiredError);
  return (err as MfaRequiredError).mfaToken;
}

describe('mfaChallenge', () => {
  test('otp: the OP answers otp; the client authenticated as at the token endpoint', async () => {
    const token = await mfaToken();
    expect(await client.mfaChallenge({ mfaToken: token, challengeType: 'otp' })).toEqual({ challengeType: 'otp' });
    const sent = op.mfa.challenges.at(-1);
    expect(sent?.params).toEqual({ mfa_token: token, challenge_type: 'otp' });
    expect(String(sent?.headers.authorization)).toMatch(/^Basic /);
  });

  test('oob: returns the oob_code and binding method', async () => {
    const token = await mfaToken();
    const challenge = await client.mfaChallenge({ mfaToken: token, challengeType: 'oob', authenticatorId: 'sms|dev_bob' });
    expect(challenge.challengeType).toBe('oob');
    expect(challenge.bindingMethod).toBe('prompt');
    expect(op.mfa.oob.get(challenge.oobCode as string)?.mfaToken).toBe(token);
    expect(op.mfa.challenges.at(-1)?.params.authenticator_id).toBe('sms|dev_bob');
  });

  test('OP errors are ERR_OP_ERROR with the OP code: a wrong client secret, an unknown mfa_token', async () => {
    const wrongSecret = new AuthClient({ issuerBaseURL: op.issuer, clientID: TEST_CLIENT_ID, clientSecret: 'not-the-secret-of-this-client-000000000', jwksCooldown: 0 });
    const token = await mfaToken();
    const a = await rejection(wrongSecret.mfaChallenge({ mfaToken: token }));
    expect([a.code, a.status, a.error]).toEqual(['ERR_OP_ERROR', 401, 'invalid_client']);
    const b = await rejection(client.mfaChallenge({ mfaToken: 'not-a-token' }));
    expect([b.code, b.error]).toEqual(['ERR_OP_ERROR', 'invalid_grant']);
    expect(b.message).not.toContain('not-a-token');
    const c = await rejection(client.mfaChallenge({ mfaToken: '' }));
    expect(c.code).toBe('ERR_BAD_REQUEST');
  });
});

describe('loginWithOtp', () => {
  test('the code of the authenticator app finishes the login; the ID token is validated and shows mfa', async () => {
    const token = await mfaToken();
    const tokens = await client.loginWithOtp({ mfaToken: token, otp: totp(OTP_SECRET) });
    expect(tokens.idTokenClaims?.sub).toBe(USERS.bob.sub);
    expect(tokens.idTokenClaims?.amr).toEqual(['pwd', 'otp', 'mfa']);
    expect(typeof tokens.refreshToken).toBe('string');
    expect(op.tokenRequests.at(-1)?.grantType).toBe(MFA_OTP_GRANT);
    expect(op.tokenRequests.at(-1)?.params).toMatchObject({ mfa_token: token });
  });

  test('a wrong code is invalid_grant; the token still works with the right one', async () => {
    const token = await mfaToken();
    const err = await rejection(client.loginWithOtp({ mfaToken: token, otp: '000000' === totp(OTP_SECRET) ? '111111' : '000000' }));
    expect([err.code, err.error]).toEqual(['ERR_OP_ERROR', 'invalid_grant']);
    expect(err.message).not.toContain(token);
    expect((await client.loginWithOtp({ mfaToken: token, otp: totp(OTP_SECRET) })).idTokenClaims?.sub).toBe(USERS.bob.sub);
  });

  test('the returned ID token is validated like every other: a forged one and a wrong nonce are refused', async () => {
    op.tamperIdToken(() => ({ signWith: 'foreign' }));
    const forged = await rejection(client.loginWithOtp({ mfaToken: await mfaToken(), otp: totp(OTP_SECRET) }));
    expect(forged.code).toBe('ERR_ID_TOKEN_INVALID');
    op.tamperIdToken(null);
    const nonce = await rejection(client.loginWithOtp({ mfaToken: await mfaToken(), otp: totp(OTP_SECRET) }, { nonce: 'expected-nonce-000' }));
    expect(nonce.code).toBe('ERR_ID_TOKEN_INVALID');
  });

  test('an expired mfa_token is expired_token', async () => {
    const token = await mfaToken();
    op.mfa.expireAll();
    const err = await rejection(client.loginWithOtp({ mfaToken: token, otp: totp(OTP_SECRET) }));
    expect(err.error).toBe('expired_token');
  });

  test('missing fields are a 400 before any request', async () => {
    expect((await rejection(client.loginWithOtp({ mfaToken: 'x', otp: '' }))).code).toBe('ERR_BAD_REQUEST');
    expect((await rejection(client.loginWithOtp({ mfaToken: '', otp: '123456' }))).code).toBe('ERR_BAD_REQUEST');
    expect(op.tokenRequests).toHaveLength(0);
  });
});

describe('loginWithOob', () => {
  test('the binding code the user received finishes the login; a wrong one is refused', async () => {
    const token = await mfaToken();
    const { oobCode } = await client.mfaChallenge({ mfaToken: token, challengeType: 'oob', authenticatorId: 'sms|dev_bob' });
    const bindingCode = op.mfa.oob.get(oobCode as string)?.bindingCode as string;
    const wrong = await rejection(client.loginWithOob({ mfaToken: token, oobCode: oobCode as string, bindingCode: bindingCode === '000000' ? '111111' : '000000' }));
    expect(wrong.error).toBe('invalid_grant');
    const tokens = await client.loginWithOob({ mfaToken: token, oobCode: oobCode as string, bindingCode });
    expect(tokens.idTokenClaims?.amr).toEqual(['pwd', 'oob', 'mfa']);
    expect(op.tokenRequests.at(-1)?.grantType).toBe(MFA_OOB_GRANT);
    expect(op.tokenRequests.at(-1)?.params).toMatchObject({ oob_code: oobCode, binding_code: bindingCode });
  });
});

describe('loginWithRecoveryCode', () => {
  test('a recovery code finishes the login and the new recovery code comes back, printed as [redacted]; the old one is spent', async () => {
    const first = await client.loginWithRecoveryCode({ mfaToken: await mfaToken(), recoveryCode: USERS.bob.recoveryCode });
    expect(first.idTokenClaims?.amr).toEqual(['pwd', 'recovery-code', 'mfa']);
    expect(first.recoveryCode).toMatch(/^[0-9A-F]{26}$/);
    expect(op.tokenRequests.at(-1)?.grantType).toBe(MFA_RECOVERY_CODE_GRANT);
    const spent = await rejection(client.loginWithRecoveryCode({ mfaToken: await mfaToken(), recoveryCode: USERS.bob.recoveryCode }));
    expect(spent.error).toBe('invalid_grant');
    const next = await client.loginWithRecoveryCode({ mfaToken: await mfaToken(), recoveryCode: first.recoveryCode as string });
    expect(next.recoveryCode).not.toBe(first.recoveryCode);

    // The result prints neither its tokens nor the new recovery code.
    const result = next;
    const secrets = [result.accessToken, result.idToken, result.refreshToken, result.recoveryCode].filter((value): value is string => typeof value === 'string');
    expect(secrets.length).toBeGreaterThanOrEqual(3);
    for (const printed of [inspect(result, { depth: Infinity }), JSON.stringify(result)]) {
      for (const secret of secrets) expect(printed).not.toContain(secret);
      expect(printed).toContain('[redacted]');
    }
  });
});
