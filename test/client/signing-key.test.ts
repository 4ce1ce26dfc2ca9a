import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import { exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK } from 'jose';
import { SigningKey } from '../../src/client/signing-key.js';

const OPTION = 'clientAssertionSigningKey';

/** Signs a JWT with the key and verifies it with the public half: the key really is what it says. */
async function roundTrip(key: SigningKey, publicJwk: JWK): Promise<void> {
  const jwt = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: key.alg }).sign(await key.cryptoKey());
  await jwtVerify(jwt, await importJWK(publicJwk, key.alg));
}

function pemPair(type: 'rsa' | 'ec' | 'ed25519', options: Record<string, unknown>, privateType = 'pkcs8') {
  const { privateKey, publicKey } = generateKeyPairSync(type as 'rsa', options as never) as unknown as { privateKey: KeyObject; publicKey: KeyObject };
  return {
    pem: privateKey.export({ format: 'pem', type: privateType as 'pkcs8' }) as string,
    publicJwk: publicKey.export({ format: 'jwk' }) as JWK,
    privateJwk: privateKey.export({ format: 'jwk' }) as JWK,
  };
}

describe('SigningKey.from', () => {
  test('a PKCS#8 RSA PEM signs RS256 by default, and PS256 when asked', async () => {
    const { pem, publicJwk } = pemPair('rsa', { modulusLength: 2048 });
    const inferred = SigningKey.from(pem, undefined, OPTION);
    expect(inferred.alg).toBe('RS256');
    await roundTrip(inferred, publicJwk);
    const pss = SigningKey.from(pem, 'PS256', OPTION);
    expect(pss.alg).toBe('PS256');
    await roundTrip(pss, publicJwk);
  });

  test('EC PEMs infer their curve; a SEC1 PEM is read too', async () => {
    const p384 = pemPair('ec', { namedCurve: 'P-384' });
    expect(SigningKey.from(p384.pem, undefined, OPTION).alg).toBe('ES384');
    const sec1 = pemPair('ec', { namedCurve: 'P-256' }, 'sec1');
    expect(sec1.pem).toContain('BEGIN EC PRIVATE KEY');
    const key = SigningKey.from(sec1.pem, undefined, OPTION);
    expect(key.alg).toBe('ES256');
    await roundTrip(key, sec1.publicJwk);
  });

  test('an Ed25519 PEM signs EdDSA', async () => {
    const { pem, publicJwk } = pemPair('ed25519', {});
    const key = SigningKey.from(pem, undefined, OPTION);
    expect(key.alg).toBe('EdDSA');
    await roundTrip(key, publicJwk);
  });

  test('a private JWK keeps its kid and alg', async () => {
    const { privateJwk, publicJwk } = pemPair('ec', { namedCurve: 'P-256' });
    const key = SigningKey.from({ ...privateJwk, kid: 'key-1', alg: 'ES256' }, undefined, OPTION);
    expect([key.alg, key.kid]).toEqual(['ES256', 'key-1']);
    expect(await key.privateKey()).toEqual({ key: expect.anything(), kid: 'key-1' });
    await roundTrip(key, publicJwk);
  });

  test('a private CryptoKey is used as it is, its algorithm read from the key', async () => {
    const { privateKey, publicKey } = await generateKeyPair('PS384');
    const key = SigningKey.from(privateKey, undefined, OPTION);
    expect(key.alg).toBe('PS384');
    expect(await key.cryptoKey()).toBe(privateKey);
    await roundTrip(key, await exportJWK(publicKey));
  });

  test.each([
    ['a public JWK', () => pemPair('ec', { namedCurve: 'P-256' }).publicJwk, /private JWK \(with "d"\)/],
    ['a public CryptoKey', async () => (await generateKeyPair('ES256')).publicKey, /private CryptoKey/],
    ['a secret string', () => 'not a key at all', /PEM private key/],
    ['a broken PEM', () => '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', /readable PEM private key/],
    ['a number', () => 42, /private CryptoKey, a PEM private key or a private JWK/],
  ])('refuses %s, naming the option', async (_name, make, message) => {
    const input = (await make()) as never;
    expect(() => SigningKey.from(input, undefined, OPTION)).toThrow(expect.objectContaining({ code: 'ERR_CONFIG_INVALID', message: expect.stringMatching(message) }));
    expect(() => SigningKey.from(input, undefined, OPTION)).toThrow(/"clientAssertionSigningKey"/);
  });

  test('refuses an algorithm the key cannot sign with', () => {
    const { pem } = pemPair('ec', { namedCurve: 'P-256' });
    expect(() => SigningKey.from(pem, 'RS256', OPTION)).toThrow(/a key for RS256; this key signs with ES256/);
  });

  test('never prints its key material', () => {
    const { pem, privateJwk } = pemPair('ec', { namedCurve: 'P-256' });
    const d = privateJwk.d as string;
    for (const key of [SigningKey.from(pem, undefined, OPTION), SigningKey.from(privateJwk, undefined, OPTION)]) {
      for (const printed of [inspect(key, { depth: 5, showHidden: true }), JSON.stringify(key), String(key), JSON.stringify({ key })]) {
        expect(printed).not.toContain(d);
        expect(printed).not.toContain('PRIVATE KEY');
        expect(printed).toContain('ES256');
      }
    }
  });
});
