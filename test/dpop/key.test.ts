import { inspect } from 'node:util';
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import { AuthClient, auth, isOidcError } from '../../src/index.js';
import { DPoPKey, generateDPoPKeyPair, jwkThumbprint } from '../../src/dpop/index.js';
import { APP_SECRET } from '../helpers/app.js';

const ISSUER = 'http://127.0.0.1:1';

async function expectConfigError(promise: Promise<unknown> | (() => unknown), pattern: RegExp): Promise<void> {
  let caught: unknown;
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (err) {
    caught = err;
  }
  expect(isOidcError(caught)).toBe(true);
  expect((caught as { code: string }).code).toBe('ERR_CONFIG_INVALID');
  expect((caught as Error).message).toMatch(pattern);
}

describe('generated keys', () => {
  test('ES256 by default, the private key cannot be exported, the public key can', async () => {
    const pair = await generateDPoPKeyPair();
    expect(pair.privateKey.algorithm).toMatchObject({ name: 'ECDSA', namedCurve: 'P-256' });
    expect(pair.privateKey.extractable).toBe(false);
    expect(pair.publicKey.extractable).toBe(true);
    await expect(crypto.subtle.exportKey('jwk', pair.privateKey)).rejects.toThrow();
  });

  test.each(['ES384', 'EdDSA', 'PS256', 'RS256'] as const)('%s keys can be generated', async (alg) => {
    const key = DPoPKey.generated(alg);
    expect(await key.thumbprint()).toMatch(/^[\w-]{43}$/);
  });

  test('an unknown algorithm is refused up front', async () => {
    await expectConfigError(() => DPoPKey.generated('HS256' as never), /useDPoP\.alg/);
  });

  test('one key per DPoPKey, shared by concurrent first uses', async () => {
    const key = DPoPKey.generated();
    const thumbprints = await Promise.all(Array.from({ length: 10 }, () => key.thumbprint()));
    expect(new Set(thumbprints).size).toBe(1);
    expect(await key.thumbprint()).toBe(thumbprints[0]);
    // another instance gets its own key
    expect(await DPoPKey.generated().thumbprint()).not.toBe(thumbprints[0]);
  });
});

describe('supplied keys', () => {
  test('the thumbprint is the RFC 7638 SHA-256 thumbprint of the public JWK', async () => {
    const pair = await generateKeyPair('ES256');
    const expected = await calculateJwkThumbprint(await exportJWK(pair.publicKey), 'sha256');
    expect(await jwkThumbprint(pair.publicKey)).toBe(expected);
    expect(await DPoPKey.fromKeyPair(pair).thumbprint()).toBe(expected);
    const client = new AuthClient({ issuerBaseURL: ISSUER, clientID: 'c', useDPoP: { keyPair: pair } });
    expect(client.usesDPoP).toBe(true);
    expect(await client.dpopThumbprint()).toBe(expected);
  });

  test('a client without DPoP has no thumbprint', async () => {
    const client = new AuthClient({ issuerBaseURL: ISSUER, clientID: 'c' });
    expect(client.usesDPoP).toBe(false);
    expect(await client.dpopThumbprint()).toBeUndefined();
  });

  test('shapes that cannot sign proofs are refused when the client is built', async () => {
    const pair = await generateKeyPair('ES256');
    const hiddenPublic = await generateKeyPair('ES256', { extractable: false });
    const hmac = await crypto.subtle.generateKey({ name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    await expectConfigError(() => DPoPKey.fromKeyPair('not a key'), /CryptoKeyPair/);
    await expectConfigError(() => DPoPKey.fromKeyPair({ privateKey: pair.privateKey }), /CryptoKeyPair/);
    await expectConfigError(() => DPoPKey.fromKeyPair({ privateKey: pair.publicKey, publicKey: pair.publicKey }), /privateKey must be a private key/);
    await expectConfigError(() => DPoPKey.fromKeyPair({ privateKey: pair.privateKey, publicKey: pair.privateKey }), /publicKey must be a public key/);
    // WebCrypto always makes generated public keys extractable; an imported one may not be
    const jwk = await exportJWK(hiddenPublic.publicKey);
    const unexportable = await crypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
    await expectConfigError(() => DPoPKey.fromKeyPair({ privateKey: pair.privateKey, publicKey: unexportable }), /extractable/);
    await expectConfigError(() => DPoPKey.fromKeyPair({ privateKey: hmac, publicKey: pair.publicKey }), /privateKey must be a private key/);
    await expectConfigError(() => new AuthClient({ issuerBaseURL: ISSUER, clientID: 'c', dpopKeyPair: { privateKey: pair.privateKey } as CryptoKeyPair }), /"dpopKeyPair"/);
  });

  test('auth() fails fast on a bad useDPoP.keyPair, naming the option', async () => {
    await expectConfigError(
      () => auth({ issuerBaseURL: ISSUER, baseURL: 'http://127.0.0.1:3000', clientID: 'c', clientSecret: 's', secret: APP_SECRET, useDPoP: { keyPair: {} as CryptoKeyPair } }),
      /useDPoP\.keyPair/,
    );
  });

  test('a private key paired with the wrong public key fails at first use, and is not remembered', async () => {
    const a = await generateKeyPair('ES256');
    const b = await generateKeyPair('ES256');
    const key = DPoPKey.fromKeyPair({ privateKey: a.privateKey, publicKey: b.publicKey });
    await expectConfigError(key.thumbprint(), /do not belong together/);
    await expectConfigError(key.thumbprint(), /do not belong together/);
  });
});

describe('the private key stays out of renderings', () => {
  test('JSON and inspect of the key, the client and auth() never show private key material', async () => {
    // an extractable private key, so its secret part "d" is known and can be searched for
    const pair = await generateKeyPair('ES256', { extractable: true });
    const { d } = await exportJWK(pair.privateKey);
    expect(typeof d).toBe('string');

    const key = DPoPKey.fromKeyPair(pair);
    await key.thumbprint();
    const client = new AuthClient({ issuerBaseURL: ISSUER, clientID: 'c', dpopKeyPair: pair });
    await client.dpopThumbprint();
    const middleware = auth({ issuerBaseURL: ISSUER, baseURL: 'http://127.0.0.1:3000', clientID: 'c', clientSecret: 's', secret: APP_SECRET, useDPoP: { keyPair: pair } });
    await middleware.client.dpopThumbprint();

    const renderings = [
      JSON.stringify(key),
      inspect(key, { depth: 10, showHidden: true }),
      JSON.stringify(client),
      inspect(client, { depth: 10, showHidden: true }),
      inspect(middleware.client, { depth: 10, showHidden: true }),
      inspect(middleware.config, { depth: 10 }),
      JSON.stringify(middleware.config),
      JSON.stringify({ key, client }),
    ];
    for (const text of renderings) {
      expect(text).not.toContain(d as string);
      expect(text).not.toMatch(/"d"\s*:/);
    }
    expect(JSON.stringify(key)).toBe('"[DPoP key]"');
    expect(inspect(key)).toBe('DPoPKey [hidden]');
  });
});
