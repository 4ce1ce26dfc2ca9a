/**
 * The back-channel logout token validator, with real jose signatures against
 * a local key set: every rule of Back-Channel Logout 1.0 section 2.6 refuses
 * the token it is about, and nothing else.
 */
import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { BACKCHANNEL_LOGOUT_EVENT, LOGOUT_TOKEN_MAX_AGE, validateLogoutToken, type LogoutTokenSettings } from '../../src/client/logout-token.js';
import { OidcError } from '../../src/errors.js';

const ISSUER = 'https://op.example.com';
const CLIENT_ID = 'client-1';
const SETTINGS: LogoutTokenSettings = { issuer: ISSUER, clientID: CLIENT_ID, alg: 'RS256', clockTolerance: 10 };

let opKey: CryptoKey;
let foreignKey: CryptoKey;
let ecKey: CryptoKey;
let keys: JWTVerifyGetKey;

beforeAll(async () => {
  const rsa = await generateKeyPair('RS256', { extractable: true });
  const ec = await generateKeyPair('ES256', { extractable: true });
  opKey = rsa.privateKey;
  ecKey = ec.privateKey;
  foreignKey = (await generateKeyPair('RS256')).privateKey;
  const jwks = { keys: [{ ...(await exportJWK(rsa.publicKey)), kid: 'rs', alg: 'RS256' }, { ...(await exportJWK(ec.publicKey)), kid: 'ec', alg: 'ES256' }] as JWK[] };
  keys = createLocalJWKSet(jwks);
});

const now = () => Math.floor(Date.now() / 1000);

function claims(overrides: Record<string, unknown> = {}): JWTPayload {
  const base: Record<string, unknown> = {
    iss: ISSUER,
    aud: CLIENT_ID,
    iat: now(),
    exp: now() + 120,
    jti: randomUUID(),
    sub: 'user-1',
    sid: 'op-session-1',
    events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
  };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete base[key];
    else base[key] = value;
  }
  return base as JWTPayload;
}

async function sign(payload: JWTPayload, header: Record<string, unknown> = {}, key: CryptoKey = opKey): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: 'rs', typ: 'logout+jwt', ...header }).sign(key);
}

async function refusal(token: string): Promise<OidcError> {
  try {
    await validateLogoutToken(token, keys, SETTINGS);
  } catch (err) {
    expect(err).toBeInstanceOf(OidcError);
    return err as OidcError;
  }
  throw new Error('the token was accepted');
}

test('a valid token gives iss, jti, iat, sid and sub', async () => {
  const payload = claims();
  const result = await validateLogoutToken(await sign(payload), keys, SETTINGS);
  expect(result).toEqual({ iss: ISSUER, jti: payload.jti, iat: payload.iat, sid: 'op-session-1', sub: 'user-1' });
});

test('sid alone or sub alone is enough; an aud array with the client passes', async () => {
  expect((await validateLogoutToken(await sign(claims({ sub: undefined })), keys, SETTINGS)).sub).toBeUndefined();
  expect((await validateLogoutToken(await sign(claims({ sid: undefined })), keys, SETTINGS)).sid).toBeUndefined();
  await expect(validateLogoutToken(await sign(claims({ aud: ['other', CLIENT_ID] })), keys, SETTINGS)).resolves.toBeDefined();
});

test('typ may be absent or JWT; exp may be absent', async () => {
  await expect(validateLogoutToken(await sign(claims(), { typ: undefined }), keys, SETTINGS)).resolves.toBeDefined();
  await expect(validateLogoutToken(await sign(claims(), { typ: 'JWT' }), keys, SETTINGS)).resolves.toBeDefined();
  await expect(validateLogoutToken(await sign(claims({ exp: undefined })), keys, SETTINGS)).resolves.toBeDefined();
});

const refused: Array<[string, () => Promise<string>, RegExp]> = [
  ['a foreign signing key', () => sign(claims(), {}, foreignKey), /signature/],
  ['an unexpected alg (ES256 by the OP)', () => new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', kid: 'ec' }).sign(ecKey), /alg/],
  ['alg none', async () => `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims())).toString('base64url')}.`, /alg|malformed/],
  ['another issuer', () => sign(claims({ iss: 'https://evil.example.com' })), /"iss"/],
  ['another audience', () => sign(claims({ aud: 'other-client' })), /"aud"/],
  ['no iat', () => sign(claims({ iat: undefined })), /"iat"/],
  ['an iat in the future', () => sign(claims({ iat: now() + 300 })), /"iat"/],
  ['an iat older than the accepted window', () => sign(claims({ iat: now() - LOGOUT_TOKEN_MAX_AGE - 60, exp: now() + 60 })), /"iat"/],
  ['an exp in the past', () => sign(claims({ iat: now() - 30, exp: now() - 20 })), /"exp"/],
  ['no jti', () => sign(claims({ jti: undefined })), /"jti"/],
  ['an empty jti', () => sign(claims({ jti: '' })), /"jti"/],
  ['an oversized jti', () => sign(claims({ jti: 'j'.repeat(300) })), /"jti"/],
  ['no events', () => sign(claims({ events: undefined })), /"events"/],
  ['events as an array', () => sign(claims({ events: [BACKCHANNEL_LOGOUT_EVENT] })), /"events"/],
  ['events without the back-channel member', () => sign(claims({ events: { 'http://example.com/other': {} } })), /back-channel/],
  ['the back-channel member not an object', () => sign(claims({ events: { [BACKCHANNEL_LOGOUT_EVENT]: true } })), /back-channel/],
  ['a nonce', () => sign(claims({ nonce: 'n-1' })), /nonce/],
  ['neither sid nor sub', () => sign(claims({ sid: undefined, sub: undefined })), /"sid" or "sub"/],
  ['a sid that is not a string', () => sign(claims({ sid: 42 })), /"sid"/],
  ['a typ of another token kind', () => sign(claims(), { typ: 'at+jwt' }), /typ/],
  ['garbage', async () => 'not-a-jwt', /malformed/],
];

test.each(refused)('refuses %s with a 400 ERR_LOGOUT_TOKEN_INVALID', async (_name, make, reason) => {
  const token = await make();
  const err = await refusal(token);
  expect(err.code).toBe('ERR_LOGOUT_TOKEN_INVALID');
  expect(err.status).toBe(400);
  expect(err.error).toBe('invalid_request');
  expect(err.message).toMatch(reason);
  expect(err.message).not.toContain(token);
});

test('a payload changed after signing fails the signature check', async () => {
  const [header, , signature] = (await sign(claims())).split('.');
  const changed = Buffer.from(JSON.stringify(claims({ sid: 'someone-elses-session' }))).toString('base64url');
  const err = await refusal(`${header}.${changed}.${signature}`);
  expect(err.message).toMatch(/signature/);
});

test('keys that cannot be fetched are the OP\'s failure (502), not a bad token', async () => {
  const unreachable: JWTVerifyGetKey = async () => {
    throw new TypeError('fetch failed');
  };
  const err = await validateLogoutToken(await sign(claims()), unreachable, SETTINGS).then(
    () => undefined,
    (e: unknown) => e as OidcError,
  );
  expect(err?.code).toBe('ERR_OP_UNREACHABLE');
  expect(err?.status).toBe(502);
});
