/**
 * validateIdToken on its own, with keys made here (jose) and the clock frozen: every rule refuses
 * the token it is about, at its exact boundary, with ERR_ID_TOKEN_INVALID and a reason: 400 for a
 * bad token, 502 for `exp`/`iat` beyond the clock tolerance (the server's and the OP's clocks differ).
 * The code exchange has openid-client checking many of these claims first; the other grants and
 * AuthClient.validateIdToken rely on these checks alone (see id-token-grants.test.ts).
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { createLocalJWKSet, errors as joseErrors, exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload, type JWTVerifyGetKey } from 'jose';

import { validateIdToken, type IdTokenSettings } from '../../src/client/id-token.js';
import { OidcError } from '../../src/errors.js';

const ISSUER = 'https://op.example.com/';
const CLIENT_ID = 'client-1';
const TOLERANCE = 10;
const SETTINGS: IdTokenSettings = { issuer: ISSUER, clientID: CLIENT_ID, alg: 'RS256', clockTolerance: TOLERANCE };
/** The frozen clock, in epoch seconds (plus half a second, so flooring matters). */
const NOW = 1_800_000_000;

let rsKey: CryptoKey;
let esKey: CryptoKey;
let foreignKey: CryptoKey;
let keys: JWTVerifyGetKey;

beforeAll(async () => {
  const rs = await generateKeyPair('RS256', { extractable: true });
  const es = await generateKeyPair('ES256', { extractable: true });
  rsKey = rs.privateKey;
  esKey = es.privateKey;
  foreignKey = (await generateKeyPair('RS256')).privateKey;
  const jwks = { keys: [{ ...(await exportJWK(rs.publicKey)), kid: 'rs', alg: 'RS256' }, { ...(await exportJWK(es.publicKey)), kid: 'es', alg: 'ES256' }] as JWK[] };
  keys = createLocalJWKSet(jwks);
  // Only Date is faked: WebCrypto and the promises it resolves run as usual.
  jest.useFakeTimers({ now: NOW * 1000 + 500, doNotFake: ['nextTick', 'setImmediate', 'clearImmediate', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'queueMicrotask', 'hrtime', 'performance'] });
});
afterAll(() => {
  jest.useRealTimers();
});

/** Claims of a valid ID token; `undefined` in overrides removes a claim. */
function claims(overrides: Record<string, unknown> = {}): JWTPayload {
  const base: Record<string, unknown> = { iss: ISSUER, sub: 'user-1', aud: CLIENT_ID, iat: NOW - 5, exp: NOW + 300 };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete base[key];
    else base[key] = value;
  }
  return base as JWTPayload;
}

function sign(payload: JWTPayload, header: Record<string, unknown> = {}, key: CryptoKey = rsKey): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: 'rs', ...header }).sign(key);
}

type Expected = Parameters<typeof validateIdToken>[3];

async function refusal(token: string, expected?: Expected, settings: IdTokenSettings = SETTINGS, keySet: JWTVerifyGetKey = keys, status = 400): Promise<OidcError> {
  const outcome = await validateIdToken(token, keySet, settings, expected).then(
    () => new Error('the ID token was accepted'),
    (err: unknown) => err,
  );
  if (!(outcome instanceof OidcError)) throw outcome;
  expect(outcome.code).toBe('ERR_ID_TOKEN_INVALID');
  expect(outcome.status).toBe(status);
  expect(outcome.message).not.toContain(token);
  return outcome;
}

/** A token refused for its time claims: a 502 (the clocks differ), with the skew and the tolerance. */
const skewed = (token: string, settings: IdTokenSettings = SETTINGS) => refusal(token, undefined, settings, keys, 502);
const skew = (claim: 'exp' | 'iat', seconds: number, tolerance: number) =>
  `ID token invalid: "${claim}" is ${seconds} s ${claim === 'exp' ? 'in the past' : 'in the future'}, beyond clockTolerance (${tolerance} s): this server's clock and the OP's differ by about that much; sync them (NTP) or raise clockTolerance`;

async function accepted(payload: JWTPayload, expected?: Expected, settings: IdTokenSettings = SETTINGS): Promise<void> {
  await expect(validateIdToken(await sign(payload), keys, settings, expected)).resolves.toMatchObject({ sub: payload.sub });
}

test('a valid token gives its claims', async () => {
  const payload = claims({ email: 'a@example.com' });
  await expect(validateIdToken(await sign(payload), keys, SETTINGS)).resolves.toEqual(payload);
});

describe('signature and alg', () => {
  test('a token signed by a key the OP does not publish is refused', async () => {
    const err = await refusal(await sign(claims(), {}, foreignKey));
    expect(err.message).toBe('ID token invalid: signature verification failed');
  });

  test('claims changed after signing are refused', async () => {
    const [header, , signature] = (await sign(claims())).split('.');
    const changed = Buffer.from(JSON.stringify(claims({ sub: 'someone-else' }))).toString('base64url');
    const err = await refusal(`${header}.${changed}.${signature}`);
    expect(err.message).toBe('ID token invalid: signature verification failed');
  });

  test('a valid signature with another alg than the configured one is refused; the configured one passes', async () => {
    const es256 = await new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', kid: 'es' }).sign(esKey);
    expect((await refusal(es256)).message).toBe('ID token invalid: unexpected "alg"');
    await expect(validateIdToken(es256, keys, { ...SETTINGS, alg: 'ES256' })).resolves.toMatchObject({ sub: 'user-1' });
    expect((await refusal(await sign(claims()), undefined, { ...SETTINGS, alg: 'ES256' })).message).toBe('ID token invalid: unexpected "alg"');
  });

  test('alg none is refused', async () => {
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const err = await refusal(`${encode({ alg: 'none' })}.${encode(claims())}.`);
    expect(err.message).toMatch(/^ID token invalid: (unexpected "alg"|malformed token)$/);
  });

  test('a kid the JWKS does not have is refused', async () => {
    const err = await refusal(await sign(claims(), { kid: 'unknown' }));
    expect(err.message).toBe('ID token invalid: no key in the JWKS matches its "kid"');
  });

  test('garbage and a payload that is not JSON are malformed', async () => {
    expect((await refusal('not-a-jwt')).message).toBe('ID token invalid: malformed token');
    const [header, , signature] = (await sign(claims())).split('.');
    expect((await refusal(`${header}.${Buffer.from('not json').toString('base64url')}.${signature}`)).message).toMatch(/^ID token invalid: (malformed token|signature verification failed)$/);
  });

  test('keys that cannot be fetched in time, or fail otherwise, give a reason without details', async () => {
    const timeout: JWTVerifyGetKey = async () => {
      throw new joseErrors.JWKSTimeout();
    };
    expect((await refusal(await sign(claims()), undefined, SETTINGS, timeout)).message).toBe('ID token invalid: the JWKS could not be fetched in time');
    const invalidSet: JWTVerifyGetKey = async () => {
      throw new joseErrors.JWKSInvalid('JSON Web Key Set malformed');
    };
    expect((await refusal(await sign(claims()), undefined, SETTINGS, invalidSet)).message).toBe('ID token invalid: ERR_JWKS_INVALID');
    const broken: JWTVerifyGetKey = async () => {
      throw new TypeError('fetch failed: secret detail');
    };
    expect((await refusal(await sign(claims()), undefined, SETTINGS, broken)).message).toBe('ID token invalid: could not be verified');
  });
});

describe('iss, aud, azp', () => {
  test('another issuer, or none, is refused', async () => {
    expect((await refusal(await sign(claims({ iss: 'https://evil.example.com/' })))).message).toMatch(/^ID token invalid: "iss" check failed/);
    expect((await refusal(await sign(claims({ iss: 'https://op.example.com' })))).message).toMatch(/^ID token invalid: "iss" check failed/);
    expect((await refusal(await sign(claims({ iss: undefined })))).message).toMatch(/^ID token invalid: "iss" check failed/);
  });

  test('another audience, or none, is refused', async () => {
    expect((await refusal(await sign(claims({ aud: 'other-client' })))).message).toMatch(/^ID token invalid: "aud" check failed/);
    expect((await refusal(await sign(claims({ aud: ['other-client', 'third'], azp: CLIENT_ID })))).message).toMatch(/^ID token invalid: "aud" check failed/);
    expect((await refusal(await sign(claims({ aud: undefined })))).message).toMatch(/^ID token invalid: "aud" check failed/);
  });

  test('several audiences need an azp, and the azp must be this client', async () => {
    expect((await refusal(await sign(claims({ aud: [CLIENT_ID, 'api'] })))).message).toBe('ID token invalid: "azp" is required with several audiences');
    expect((await refusal(await sign(claims({ aud: [CLIENT_ID, 'api'], azp: 'api' })))).message).toBe('ID token invalid: "azp" is not this client');
    await accepted(claims({ aud: [CLIENT_ID, 'api'], azp: CLIENT_ID }));
  });

  test('one audience in an array needs no azp; an azp, when present, must still be this client', async () => {
    await accepted(claims({ aud: [CLIENT_ID] }));
    expect((await refusal(await sign(claims({ azp: 'other-client' })))).message).toBe('ID token invalid: "azp" is not this client');
    await accepted(claims({ azp: CLIENT_ID }));
  });
});

describe('exp and iat, with the clock tolerance', () => {
  test('exp is accepted up to the tolerance in the past, and refused from there', async () => {
    await accepted(claims({ iat: NOW - 100, exp: NOW - 9 }));
    expect((await skewed(await sign(claims({ iat: NOW - 100, exp: NOW - 10 })))).message).toBe(skew('exp', 10, 10));
  });

  test('a token without exp or without iat is refused', async () => {
    expect((await refusal(await sign(claims({ exp: undefined })))).message).toMatch(/^ID token invalid: "exp" check failed/);
    expect((await refusal(await sign(claims({ iat: undefined })))).message).toMatch(/^ID token invalid: "iat" check failed/);
  });

  test('iat is accepted up to the tolerance in the future, and refused beyond', async () => {
    await accepted(claims({ iat: NOW + 10 }));
    expect((await skewed(await sign(claims({ iat: NOW + 11 })))).message).toBe(skew('iat', 11, 10));
  });

  test('the tolerance is the configured one', async () => {
    const strict = { ...SETTINGS, clockTolerance: 0 };
    expect((await skewed(await sign(claims({ iat: NOW + 1 })), strict)).message).toBe(skew('iat', 1, 0));
    await accepted(claims({ iat: NOW }), undefined, strict);
    expect((await skewed(await sign(claims({ iat: NOW - 100, exp: NOW })), strict)).message).toBe(skew('exp', 0, 0));
  });
});

describe('sub', () => {
  test('a missing, empty or non-string sub is refused', async () => {
    expect((await refusal(await sign(claims({ sub: undefined })))).message).toMatch(/^ID token invalid: "sub"/);
    expect((await refusal(await sign(claims({ sub: '' })))).message).toBe('ID token invalid: "sub" must be a non-empty string');
    expect((await refusal(await sign(claims({ sub: 42 })))).message).toBe('ID token invalid: "sub" must be a non-empty string');
  });

  test("a token about another user than the session's is refused; the same user passes", async () => {
    expect((await refusal(await sign(claims({ sub: 'user-2' })), { sub: 'user-1' })).message).toBe('ID token invalid: "sub" differs from the session\'s user');
    expect((await refusal(await sign(claims({ sub: 'user-2' })), { sub: 'user-1', refreshed: true })).message).toBe('ID token invalid: "sub" differs from the session\'s user');
    await accepted(claims({ sub: 'user-1' }), { sub: 'user-1' });
  });
});

describe('nonce', () => {
  test('the nonce sent must come back exactly', async () => {
    await accepted(claims({ nonce: 'n-1' }), { nonce: 'n-1' });
    expect((await refusal(await sign(claims({ nonce: 'n-2' })), { nonce: 'n-1' })).message).toBe('ID token invalid: "nonce" does not match');
    expect((await refusal(await sign(claims()), { nonce: 'n-1' })).message).toBe('ID token invalid: "nonce" does not match');
  });

  test('a nonce nobody asked for is refused, except on a token continuing a login (refresh, known user)', async () => {
    expect((await refusal(await sign(claims({ nonce: 'n-1' })))).message).toBe('ID token invalid: unexpected "nonce"');
    expect((await refusal(await sign(claims({ nonce: 'n-1' })), { refreshed: false })).message).toBe('ID token invalid: unexpected "nonce"');
    await accepted(claims({ nonce: 'n-1' }), { refreshed: true });
    await accepted(claims({ nonce: 'n-1' }), { sub: 'user-1' });
    await accepted(claims());
  });
});

describe('auth_time with max_age', () => {
  test('auth_time is required when max_age was asked, and must be a number', async () => {
    expect((await refusal(await sign(claims()), { maxAge: 3600 })).message).toBe('ID token invalid: "auth_time" is required when max_age was asked');
    expect((await refusal(await sign(claims({ auth_time: String(NOW) })), { maxAge: 3600 })).message).toBe('ID token invalid: "auth_time" is required when max_age was asked');
    // Without max_age there is nothing to check.
    await accepted(claims());
    await accepted(claims({ auth_time: NOW - 100_000 }));
  });

  test('auth_time may be max_age + tolerance old, not a second more', async () => {
    await accepted(claims({ auth_time: NOW - 100 - TOLERANCE }), { maxAge: 100 });
    expect((await refusal(await sign(claims({ auth_time: NOW - 100 - TOLERANCE - 1 })), { maxAge: 100 })).message).toBe(
      'ID token invalid: "auth_time" is older than max_age allows',
    );
  });

  test('max_age=0 is checked too: only a login within the tolerance passes', async () => {
    await accepted(claims({ auth_time: NOW - TOLERANCE }), { maxAge: 0 });
    expect((await refusal(await sign(claims({ auth_time: NOW - TOLERANCE - 1 })), { maxAge: 0 })).message).toBe('ID token invalid: "auth_time" is older than max_age allows');
    expect((await refusal(await sign(claims()), { maxAge: 0 })).message).toBe('ID token invalid: "auth_time" is required when max_age was asked');
  });

  test('the tolerance of the check is the configured one', async () => {
    const strict = { ...SETTINGS, clockTolerance: 0 };
    await accepted(claims({ auth_time: NOW - 100 }), { maxAge: 100 }, strict);
    expect((await refusal(await sign(claims({ auth_time: NOW - 101 })), { maxAge: 100 }, strict)).message).toBe('ID token invalid: "auth_time" is older than max_age allows');
  });
});

describe('organization', () => {
  test('an org_ ID is matched to org_id exactly', async () => {
    await accepted(claims({ org_id: 'org_abc' }), { organization: 'org_abc' });
    expect((await refusal(await sign(claims({ org_id: 'org_xyz' })), { organization: 'org_abc' })).message).toBe('ID token invalid: "org_id" does not match the organization');
    expect((await refusal(await sign(claims()), { organization: 'org_abc' })).message).toBe('ID token invalid: "org_id" does not match the organization');
    // An org_ value in org_name does not stand for org_id.
    expect((await refusal(await sign(claims({ org_name: 'org_abc' })), { organization: 'org_abc' })).message).toBe('ID token invalid: "org_id" does not match the organization');
  });

  test('a name is matched to org_name, which the OP sends in lower case', async () => {
    await accepted(claims({ org_name: 'acme' }), { organization: 'Acme' });
    await accepted(claims({ org_name: 'acme' }), { organization: 'acme' });
    expect((await refusal(await sign(claims({ org_name: 'Acme' })), { organization: 'Acme' })).message).toBe('ID token invalid: "org_name" does not match the organization');
    expect((await refusal(await sign(claims({ org_name: 'other' })), { organization: 'acme' })).message).toBe('ID token invalid: "org_name" does not match the organization');
    expect((await refusal(await sign(claims({ org_id: 'acme' })), { organization: 'acme' })).message).toBe('ID token invalid: "org_name" does not match the organization');
    expect((await refusal(await sign(claims({ org_name: ['acme'] })), { organization: 'acme' })).message).toBe('ID token invalid: "org_name" does not match the organization');
  });

  test('without an organization asked, organization claims are not checked', async () => {
    await accepted(claims({ org_id: 'org_any', org_name: 'any' }));
  });
});
