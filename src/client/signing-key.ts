import { createPrivateKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import { importPKCS8, type JWK } from 'jose';
import { OidcError } from '../errors.js';

/**
 * A private key as people keep them: a WebCrypto `CryptoKey`, a PEM string
 * (PKCS#8 `BEGIN PRIVATE KEY`; PKCS#1 and SEC1 PEMs are accepted too) or a
 * private JWK (with its `d`).
 */
export type SigningKeyInput = CryptoKey | string | JWK;

/** The JWS algorithms a client may sign assertions and request objects with. */
export const SIGNING_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

/** One of {@link SIGNING_ALGS}. */
export type SigningAlg = (typeof SIGNING_ALGS)[number];

const CURVE_ALGS: Record<string, SigningAlg> = { 'P-256': 'ES256', prime256v1: 'ES256', 'P-384': 'ES384', secp384r1: 'ES384', 'P-521': 'ES512', secp521r1: 'ES512' };

function invalid(option: string, mustBe: string): OidcError {
  return new OidcError('ERR_CONFIG_INVALID', `Invalid option "${option}": must be ${mustBe}.`, { status: 500 });
}

/** The algorithms a key of this type can sign with, the first being the one inferred. */
function algsFor(keyType: string | undefined, curve: string | undefined): SigningAlg[] {
  switch (keyType) {
    case 'rsa':
      return ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
    case 'rsa-pss':
      return ['PS256', 'PS384', 'PS512'];
    case 'ec': {
      const alg = curve === undefined ? undefined : CURVE_ALGS[curve];
      return alg === undefined ? [] : [alg];
    }
    case 'ed25519':
      return ['EdDSA'];
    default:
      return [];
  }
}

/** The algorithms of a WebCrypto key, from its `algorithm`. */
function algsOfCryptoKey(key: CryptoKey): SigningAlg[] {
  const algorithm = key.algorithm as { name: string; hash?: { name: string }; namedCurve?: string };
  const bits = algorithm.hash?.name.replace('SHA-', '');
  switch (algorithm.name) {
    case 'RSASSA-PKCS1-v1_5':
      return [`RS${bits}` as SigningAlg];
    case 'RSA-PSS':
      return [`PS${bits}` as SigningAlg];
    case 'ECDSA':
      return algsFor('ec', algorithm.namedCurve);
    case 'Ed25519':
      return ['EdDSA'];
    default:
      return [];
  }
}

/**
 * A client's private signing key (for `private_key_jwt` client assertions and
 * JAR request objects), checked when the app starts and turned into a
 * non-extractable `CryptoKey` on first use. It never prints its key material:
 * `util.inspect`, `JSON.stringify` and `String()` show a placeholder.
 */
export class SigningKey {
  /** The JWS algorithm it signs with, inferred from the key or given. */
  readonly alg: SigningAlg;
  /** The JWK `kid`, when the key came as a JWK that has one. */
  readonly kid: string | undefined;
  readonly #cryptoKey: CryptoKey | undefined;
  readonly #keyObject: KeyObject | undefined;
  #loaded: Promise<CryptoKey> | undefined;

  private constructor(alg: SigningAlg, kid: string | undefined, cryptoKey: CryptoKey | undefined, keyObject: KeyObject | undefined) {
    this.alg = alg;
    this.kid = kid;
    this.#cryptoKey = cryptoKey;
    this.#keyObject = keyObject;
  }

  /**
   * Checks `input` and the algorithm at once; throws `ERR_CONFIG_INVALID`
   * naming `option` when the key is not a private key, cannot be read, or
   * does not fit `alg`.
   *
   * @example
   * ```ts
   * const key = SigningKey.from(process.env.CLIENT_PRIVATE_KEY_PEM, undefined, 'clientAssertionSigningKey'); // alg inferred
   * ```
   */
  static from(input: SigningKeyInput | SigningKey, alg: string | undefined, option: string): SigningKey {
    if (input instanceof SigningKey) return alg === undefined || alg === input.alg ? input : SigningKey.#check(option, [input.alg], alg, (a) => new SigningKey(a, input.kid, input.#cryptoKey, input.#keyObject));
    if (typeof input === 'object' && input !== null && typeof (input as CryptoKey).algorithm === 'object' && 'type' in input) {
      const key = input as CryptoKey;
      if (key.type !== 'private' || !key.usages.includes('sign')) throw invalid(option, 'a private CryptoKey usable for "sign"');
      return SigningKey.#check(option, algsOfCryptoKey(key), alg, (a) => new SigningKey(a, undefined, key, undefined));
    }
    let keyObject: KeyObject;
    let kid: string | undefined;
    if (typeof input === 'string') {
      if (!input.includes('-----BEGIN') || !input.includes('PRIVATE KEY-----')) throw invalid(option, 'a PEM private key (-----BEGIN PRIVATE KEY-----), a private JWK or a private CryptoKey');
      try {
        keyObject = createPrivateKey(input);
      } catch {
        throw invalid(option, 'a readable PEM private key (PKCS#8; an encrypted PEM is not supported)');
      }
    } else if (typeof input === 'object' && input !== null && typeof (input as JWK).kty === 'string') {
      const jwk = input as JWK;
      if (typeof jwk.d !== 'string') throw invalid(option, 'a private JWK (with "d"), not a public one');
      try {
        keyObject = createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' });
      } catch {
        throw invalid(option, 'a readable private JWK (RSA, EC P-256/P-384/P-521 or Ed25519)');
      }
      kid = typeof jwk.kid === 'string' ? jwk.kid : undefined;
      if (alg === undefined && typeof jwk.alg === 'string') alg = jwk.alg;
    } else {
      throw invalid(option, 'a private CryptoKey, a PEM private key or a private JWK');
    }
    const details = keyObject.asymmetricKeyDetails as { namedCurve?: string } | undefined;
    return SigningKey.#check(option, algsFor(keyObject.asymmetricKeyType, details?.namedCurve), alg, (a) => new SigningKey(a, kid, undefined, keyObject));
  }

  static #check(option: string, algs: SigningAlg[], alg: string | undefined, make: (alg: SigningAlg) => SigningKey): SigningKey {
    if (algs.length === 0) throw invalid(option, 'an RSA, EC (P-256, P-384, P-521) or Ed25519 private key');
    if (alg === undefined) return make(algs[0] as SigningAlg);
    if (!algs.includes(alg as SigningAlg)) throw invalid(option, `a key for ${alg}; this key signs with ${algs.join(', ')}`);
    return make(alg as SigningAlg);
  }

  /** The key as a non-extractable WebCrypto key, imported once. */
  cryptoKey(): Promise<CryptoKey> {
    if (this.#cryptoKey !== undefined) return Promise.resolve(this.#cryptoKey);
    this.#loaded ??= importPKCS8((this.#keyObject as KeyObject).export({ format: 'pem', type: 'pkcs8' }) as string, this.alg, { extractable: false });
    return this.#loaded;
  }

  /** What openid-client's `PrivateKeyJwt` and `buildAuthorizationUrlWithJAR` take. */
  async privateKey(): Promise<{ key: CryptoKey; kid?: string }> {
    const key = await this.cryptoKey();
    return this.kid === undefined ? { key } : { key, kid: this.kid };
  }

  /** @internal */
  [inspect.custom](): string {
    return `SigningKey { alg: '${this.alg}' }`;
  }

  /** A placeholder: the key material never leaves the object. */
  toJSON(): Record<string, string> {
    return { alg: this.alg };
  }

  /** A placeholder: the key material never leaves the object. */
  toString(): string {
    return `[SigningKey ${this.alg}]`;
  }
}
