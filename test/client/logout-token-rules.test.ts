/**
 * The edges of the back-channel logout token rules, with the clock frozen: the 120 s age limit by
 * value (not through the exported constant), the 256-character limit of jti, sid and sub, the
 * accepted spellings of `typ`, the exact reason of each refusal, and which key failures are the
 * OP's outage (502, worth a retry) rather than a bad token (400).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { createLocalJWKSet, errors as joseErrors, exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload, type JWTVerifyGetKey } from 'jose';

import { validateLogoutToken, type LogoutTokenSettings } from '../../src/client/logout-token.js';
import { OidcError } from '../../src/errors.js';

const ISSUER = 'https://op.example.com';
const CLIENT_ID = 'client-1';
const TOLERANCE = 10;
const SETTINGS: LogoutTokenSettings = { issuer: ISSUER, clientID: CLIENT_ID, alg: 'RS256', clockTolerance: TOLERANCE };
const EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const NOW = 1_800_000_000;

let opKey: CryptoKey;
let keys: JWTVerifyGetKey;

beforeAll(async () => {
  const rsa = await generateKeyPair('RS256', { extractable: true });
  opKey = rsa.privateKey;
  keys = createLocalJWKSet({ keys: [{ ...(await exportJWK(rsa.publicKey)), kid: 'rs', alg: 'RS256' }] as JWK[] });
  jest.useFakeTimers({ now: NOW * 1000 + 500, doNotFake: ['nextTick', 'setImmediate', 'clearImmediate', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'queueMicrotask', 'hrtime', 'performance'] });
});
afterAll(() => {
  jest.useRealTimers();
});

function claims(overrides: Record<string, unknown> = {}): JWTPayload {
  const base: Record<string, unknown> = { iss: ISSUER, aud: CLIENT_ID, iat: NOW, exp: NOW + 120, jti: randomUUID(), sid: 'op-session-1', events: { [EVENT]: {} } };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete base[key];
    else base[key] = value;
  }
  return base as JWTPayload;
}

const sign = (payload: JWTPayload, header: Record<string, unknown> = {}) => new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: 'rs', ...header }).sign(opKey);

async function refusal(token: string, keySet: JWTVerifyGetKey = keys): Promise<OidcError> {
  const outcome = await validateLogoutToken(token, keySet, SETTINGS).then(
    () => new Error('the logout token was accepted'),
    (err: unknown) => err,
  );
  if (!(outcome instanceof OidcError)) throw outcome;
  return outcome;
}

async function reason(payload: JWTPayload, header?: Record<string, unknown>): Promise<string> {
  const err = await refusal(await sign(payload, header));
  expect([err.code, err.status, err.error]).toEqual(['ERR_LOGOUT_TOKEN_INVALID', 400, 'invalid_request']);
  return err.message;
}

const valid = async (payload: JWTPayload, header?: Record<string, unknown>) => validateLogoutToken(await sign(payload, header), keys, SETTINGS);

describe('age', () => {
  test('a token may be 120 s old plus the clock tolerance, not a second more', async () => {
    await expect(valid(claims({ iat: NOW - 120 - TOLERANCE }))).resolves.toBeDefined();
    expect(await reason(claims({ iat: NOW - 120 - TOLERANCE - 1 }))).toBe('logout token invalid: "iat" is too old or in the future');
  });

  test('iat in the future beyond the tolerance is refused', async () => {
    await expect(valid(claims({ iat: NOW + TOLERANCE }))).resolves.toBeDefined();
    expect(await reason(claims({ iat: NOW + TOLERANCE + 1 }))).toBe('logout token invalid: "iat" is too old or in the future');
  });

  test('an exp in the past is refused with its own reason', async () => {
    expect(await reason(claims({ iat: NOW - 60, exp: NOW - TOLERANCE }))).toBe('logout token invalid: "exp" is in the past');
  });
});

describe('identifiers', () => {
  test.each(['jti', 'sid', 'sub'])('%s: 256 characters pass, 257 and the empty string do not', async (claim) => {
    const ok = await valid(claims({ [claim]: 'x'.repeat(256) }));
    if (claim !== 'jti') expect(ok[claim as 'sid' | 'sub']).toBe('x'.repeat(256));
    expect(await reason(claims({ [claim]: 'x'.repeat(257) }))).toBe(`logout token invalid: "${claim}" must be a short non-empty string`);
    expect(await reason(claims({ [claim]: '' }))).toMatch(new RegExp(`^logout token invalid: "${claim}"`));
  });

  test('sub must be a string when it is the only identifier', async () => {
    expect(await reason(claims({ sid: undefined, sub: 42 }))).toBe('logout token invalid: "sub" must be a short non-empty string');
    expect(await reason(claims({ sid: undefined, sub: '' }))).toBe('logout token invalid: "sub" must be a short non-empty string');
    const subOnly = await valid(claims({ sid: undefined, sub: 'user-1' }));
    expect(subOnly).toEqual({ iss: ISSUER, jti: expect.any(String), iat: NOW, sub: 'user-1' });
    expect(Object.keys(subOnly)).not.toContain('sid');
  });

  test('a sid-only token gives no sub, and a jti that is not a string is refused', async () => {
    const result = await valid(claims());
    expect(result).toEqual({ iss: ISSUER, jti: expect.any(String), iat: NOW, sid: 'op-session-1' });
    expect(Object.keys(result)).not.toContain('sub');
    expect(await reason(claims({ jti: 42 }))).toBe('logout token invalid: "jti" must be a short non-empty string');
  });
});

describe('typ and events', () => {
  test.each(['logout+jwt', 'application/logout+jwt', 'JWT', 'jwt', 'LOGOUT+JWT'])('typ %s is accepted', async (typ) => {
    await expect(valid(claims(), { typ })).resolves.toBeDefined();
  });

  test.each(['logout+jwt2', 'xlogout+jwt', 'at+jwt', 'application/jwt+x', ''])('typ %j is refused', async (typ) => {
    expect(await reason(claims(), { typ })).toBe('logout token invalid: unexpected "typ"');
  });

  test('events must be an object holding an object for the back-channel event', async () => {
    expect(await reason(claims({ events: null }))).toBe('logout token invalid: "events" must be an object');
    expect(await reason(claims({ events: 'x' }))).toBe('logout token invalid: "events" must be an object');
    expect(await reason(claims({ events: { [EVENT]: null } }))).toBe('logout token invalid: "events" has no back-channel logout event');
    expect(await reason(claims({ events: { [EVENT]: [] } }))).toBe('logout token invalid: "events" has no back-channel logout event');
    expect(await reason(claims({ nonce: 'n' }))).toBe('logout token invalid: a logout token must not carry a "nonce"');
  });
});

describe('reasons from the signature checks', () => {
  test('each jose failure has its reason', async () => {
    expect(await reason(claims({ iss: 'https://evil.example.com' }))).toBe('logout token invalid: "iss" check failed');
    expect(await reason(claims({ aud: 'other' }))).toBe('logout token invalid: "aud" check failed');
    expect(await reason(claims({ jti: undefined }))).toBe('logout token invalid: "jti" check failed');
    expect(await reason(claims(), { kid: 'unknown' })).toBe('logout token invalid: no key of the OP matches');
    const [header, , sig] = (await sign(claims())).split('.');
    expect((await refusal(`${header}.${Buffer.from('{}').toString('base64url')}.${sig}`)).message).toBe('logout token invalid: signature verification failed');
    expect((await refusal('a.b.c')).message).toBe('logout token invalid: malformed token');
    const unsupported: JWTVerifyGetKey = async () => {
      throw new joseErrors.JOSENotSupported('unsupported');
    };
    const err = await refusal(await sign(claims()), unsupported);
    expect([err.status, err.message]).toEqual([400, 'logout token invalid: ERR_JOSE_NOT_SUPPORTED']);
  });

  test.each([
    ['a JWKS timeout', () => new joseErrors.JWKSTimeout()],
    ['an invalid JWKS', () => new joseErrors.JWKSInvalid('malformed')],
    ['a generic jose failure (HTTP error of the JWKS)', () => new joseErrors.JOSEError('Expected 200 OK from the JSON Web Key Set HTTP response')],
    ['a network error', () => new TypeError('fetch failed')],
  ])("%s is the OP's outage: 502, not a bad token", async (_name, make) => {
    const failing: JWTVerifyGetKey = async () => {
      throw make();
    };
    const err = await refusal(await sign(claims()), failing);
    expect([err.code, err.status]).toEqual(['ERR_OP_UNREACHABLE', 502]);
    expect(err.message).toBe("logout token: the OP's keys could not be fetched");
  });
});
