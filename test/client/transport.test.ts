/**
 * Transport options that cannot work are refused when the client is built (auth() builds it at
 * start-up), with a message that says what to add or remove.
 */
import { generateKeyPairSync } from 'node:crypto';
import { AuthClient } from '../../src/client/auth-client.js';
import { auth } from '../../src/index.js';
import { APP_SECRET } from '../helpers/app.js';

const ISSUER = 'https://op.example.com';
const customFetch = (url: string, init: RequestInit) => fetch(url, init);
const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;

function refused(options: Record<string, unknown>, message: RegExp): void {
  expect(() => new AuthClient({ issuerBaseURL: ISSUER, clientID: 'client', ...options })).toThrow(
    expect.objectContaining({ code: 'ERR_CONFIG_INVALID', status: 500, message: expect.stringMatching(message) }),
  );
}

describe('refused at construction', () => {
  test('useMtls without a customFetch: says to add one that presents the certificate', () => {
    refused({ useMtls: true }, /"useMtls": add a "customFetch" that presents the client certificate/);
  });

  test('useMtls with a client secret', () => {
    refused({ useMtls: true, customFetch, clientSecret: 'a-secret' }, /"clientSecret": mTLS replaces the client secret; remove it/);
  });

  test('useMtls with a secret-based client authentication method', () => {
    refused({ useMtls: true, customFetch, clientAuthMethod: 'client_secret_basic' }, /with "useMtls" it must be 'tls_client_auth' or 'self_signed_tls_client_auth'/);
    refused({ useMtls: true, customFetch, clientAuthMethod: 'private_key_jwt', clientAssertionSigningKey: pem }, /not 'private_key_jwt'/);
  });

  test('a certificate method without useMtls', () => {
    refused({ clientAuthMethod: 'tls_client_auth', customFetch }, /'tls_client_auth' needs "useMtls: true"/);
    refused({ clientAuthMethod: 'self_signed_tls_client_auth' }, /'self_signed_tls_client_auth' needs "useMtls: true"/);
  });

  test('private_key_jwt without a key', () => {
    refused({ clientAuthMethod: 'private_key_jwt' }, /"clientAssertionSigningKey": must be set when clientAuthMethod is 'private_key_jwt'/);
  });

  test('JAR without any key, a key id alone, an assertion algorithm alone', () => {
    refused({ requestObjectSigningAlg: 'ES256' }, /JAR needs a signing key; set "requestObjectSigningKey" or "clientAssertionSigningKey"/);
    refused({ requestObjectSigningKeyId: 'k1' }, /"requestObjectSigningKeyId": set it only together with/);
    refused({ clientAssertionSigningAlg: 'ES256' }, /"clientAssertionSigningAlg": set it only together with "clientAssertionSigningKey"/);
  });

  test('a JAR algorithm the key cannot sign with', () => {
    refused({ requestObjectSigningAlg: 'RS256', requestObjectSigningKey: pem }, /"requestObjectSigningKey": must be a key for RS256; this key signs with ES256/);
  });

  test('a customFetch that is not a function', () => {
    refused({ customFetch: 'http://proxy:3128' }, /"customFetch": must be a function/);
  });
});

describe('accepted', () => {
  test('mTLS defaults to tls_client_auth; a PEM key defaults to private_key_jwt', () => {
    expect(() => new AuthClient({ issuerBaseURL: ISSUER, clientID: 'client', useMtls: true, customFetch })).not.toThrow();
    expect(() => new AuthClient({ issuerBaseURL: ISSUER, clientID: 'client', useMtls: true, customFetch, clientAuthMethod: 'self_signed_tls_client_auth' })).not.toThrow();
    expect(() => new AuthClient({ issuerBaseURL: ISSUER, clientID: 'client', clientAssertionSigningKey: pem, requestObjectSigningAlg: 'ES256' })).not.toThrow();
  });
});

test('auth() refuses the same at start-up, naming the option', () => {
  const base = { issuerBaseURL: ISSUER, baseURL: 'https://app.example.com', clientID: 'client', secret: APP_SECRET };
  expect(() => auth({ ...base, useMtls: true })).toThrow(/"useMtls": add a "customFetch"/);
  expect(() => auth({ ...base, clientSecret: 'a-secret', useMtls: true, customFetch })).toThrow(/"clientSecret": mTLS replaces the client secret/);
  expect(() => auth({ ...base, clientAssertionSigningKey: 'not a key' as never })).toThrow(/"clientAssertionSigningKey": must be a private CryptoKey, a PEM private key/);
  expect(() => auth({ ...base, customFetch: 42 as never })).toThrow(/"customFetch": must be a function/);
  const config = auth({ ...base, clientAssertionSigningKey: pem }).config;
  expect(config.clientAuthMethod).toBe('private_key_jwt');
  expect(config.clientAssertionSigningKey?.alg).toBe('ES256');
});
