import { inspect } from 'node:util';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import * as oidc from 'openid-client';
import type { DPoPOptions } from '../config/types.js';
import { debug } from '../debug.js';
import { OidcError } from '../errors.js';

const log = debug('dpop');

/** Signing algorithms a DPoP key may use. */
export type DPoPAlgorithm = NonNullable<DPoPOptions['alg']>;

export const DPOP_ALGORITHMS: readonly DPoPAlgorithm[] = ['ES256', 'ES384', 'EdDSA', 'PS256', 'RS256'];

/** WebCrypto algorithm names whose keys can sign DPoP proofs. */
const SIGNING_KEY_ALGORITHMS = new Set(['ECDSA', 'Ed25519', 'RSA-PSS', 'RSASSA-PKCS1-v1_5']);

function configError(name: string, what: string): OidcError {
  return new OidcError('ERR_CONFIG_INVALID', `Invalid option "${name}": ${what}.`, { status: 500 });
}

function isCryptoKey(value: unknown): value is CryptoKey {
  const key = value as Partial<CryptoKey> | null;
  return typeof key === 'object' && key !== null && typeof key.type === 'string' && Array.isArray(key.usages) && typeof key.algorithm === 'object';
}

/**
 * Checks, without touching the key material, that `keyPair` can sign DPoP
 * proofs: a private signing key and an extractable public key (its JWK goes
 * into every proof) of a supported algorithm.
 */
export function assertDPoPKeyPair(keyPair: unknown, name: string): asserts keyPair is CryptoKeyPair {
  const pair = keyPair as Partial<CryptoKeyPair> | null;
  if (typeof pair !== 'object' || pair === null || !isCryptoKey(pair.privateKey) || !isCryptoKey(pair.publicKey)) {
    throw configError(name, 'must be a CryptoKeyPair ({ privateKey, publicKey })');
  }
  const { privateKey, publicKey } = pair;
  if (privateKey.type !== 'private' || !privateKey.usages.includes('sign')) throw configError(name, 'privateKey must be a private key usable for "sign"');
  if (publicKey.type !== 'public') throw configError(name, 'publicKey must be a public key');
  if (!publicKey.extractable) throw configError(name, 'publicKey must be extractable (it is sent in every proof)');
  if (!SIGNING_KEY_ALGORITHMS.has(privateKey.algorithm.name) || privateKey.algorithm.name !== publicKey.algorithm.name) {
    throw configError(name, 'must be an ECDSA (P-256/P-384), Ed25519, RSA-PSS or RSASSA-PKCS1-v1_5 key pair');
  }
}

/**
 * A new DPoP key pair whose private key cannot be exported: it signs proofs
 * inside this process and can never be serialized, logged or stored.
 */
export async function generateDPoPKeyPair(alg: DPoPAlgorithm = 'ES256'): Promise<CryptoKeyPair> {
  if (!DPOP_ALGORITHMS.includes(alg)) throw configError('useDPoP.alg', `must be one of ${DPOP_ALGORITHMS.join(', ')}`);
  return (await oidc.randomDPoPKeyPair(alg, { extractable: false })) as CryptoKeyPair;
}

/** The RFC 7638 SHA-256 thumbprint of a public key's JWK (what `cnf.jkt` and `dpop_jkt` carry). */
export async function jwkThumbprint(publicKey: CryptoKey): Promise<string> {
  return calculateJwkThumbprint(await exportJWK(publicKey), 'sha256');
}

/** Signs and verifies a probe, so a private key paired with the wrong public key fails at start, not at the OP. */
async function assertPairMatches(keyPair: CryptoKeyPair, name: string): Promise<void> {
  const params = signParams(keyPair.privateKey);
  const probe = new TextEncoder().encode('express-oidc dpop key check');
  const signature = await crypto.subtle.sign(params, keyPair.privateKey, probe);
  if (!(await crypto.subtle.verify(params, keyPair.publicKey, signature, probe))) {
    throw configError(name, 'privateKey and publicKey do not belong together');
  }
}

function signParams(key: CryptoKey): AlgorithmIdentifier | EcdsaParams | RsaPssParams {
  const { name } = key.algorithm;
  if (name === 'ECDSA') return { name, hash: 'SHA-256' };
  if (name === 'RSA-PSS') return { name, saltLength: 32 };
  return { name };
}

interface Ready {
  keyPair: CryptoKeyPair;
  thumbprint: string;
}

/**
 * The DPoP key of one client: a key pair the app supplied, or one generated
 * on first use (once, however many requests ask at the same time). It hands
 * out proof handles and the thumbprint, never the key itself, and renders as
 * a placeholder in logs and JSON.
 */
export class DPoPKey {
  readonly #source: () => Promise<CryptoKeyPair>;
  readonly #name: string;
  #ready: Promise<Ready> | undefined;
  #handle: oidc.DPoPHandle | undefined;

  private constructor(source: () => Promise<CryptoKeyPair>, name: string) {
    this.#source = source;
    this.#name = name;
  }

  /** A supplied key pair; its shape is checked now, its pairing on first use. */
  static fromKeyPair(keyPair: unknown, name = 'useDPoP.keyPair'): DPoPKey {
    assertDPoPKeyPair(keyPair, name);
    return new DPoPKey(async () => keyPair, name);
  }

  /** A key pair generated on first use, with a non-extractable private key. */
  static generated(alg: DPoPAlgorithm = 'ES256'): DPoPKey {
    if (!DPOP_ALGORITHMS.includes(alg)) throw configError('useDPoP.alg', `must be one of ${DPOP_ALGORITHMS.join(', ')}`);
    return new DPoPKey(async () => {
      const keyPair = await generateDPoPKeyPair(alg);
      log('generated a %s key pair for this instance', alg);
      return keyPair;
    }, 'useDPoP');
  }

  /** From `useDPoP` of `auth()` or `AuthClient` (`true`, `{ keyPair }` or `{ alg }`); undefined when off. */
  static fromOption(option: boolean | DPoPOptions | undefined, name = 'useDPoP'): DPoPKey | undefined {
    if (option === undefined || option === false) return undefined;
    if (option === true) return DPoPKey.generated();
    if (option.keyPair !== undefined) return DPoPKey.fromKeyPair(option.keyPair, `${name}.keyPair`);
    return DPoPKey.generated(option.alg ?? 'ES256');
  }

  /** The public key's JWK thumbprint (sent as `dpop_jkt`). */
  async thumbprint(): Promise<string> {
    return (await this.#resolve()).thumbprint;
  }

  /**
   * The proof handle for openid-client. One handle per key, so the nonces
   * servers hand out (per origin) are remembered across requests.
   */
  async handle(config: oidc.Configuration): Promise<oidc.DPoPHandle> {
    const { keyPair } = await this.#resolve();
    // The handle only reads the client's clock skew from `config`, which is the same for every configuration.
    this.#handle ??= oidc.getDPoPHandle(config, keyPair);
    return this.#handle;
  }

  #resolve(): Promise<Ready> {
    if (this.#ready !== undefined) return this.#ready;
    const attempt = (async () => {
      const keyPair = await this.#source();
      await assertPairMatches(keyPair, this.#name);
      return { keyPair, thumbprint: await jwkThumbprint(keyPair.publicKey) };
    })();
    this.#ready = attempt;
    // A failed attempt is forgotten, so a later request can try again.
    attempt.catch(() => {
      if (this.#ready === attempt) this.#ready = undefined;
    });
    return attempt;
  }

  // The key never shows in JSON renderings or console output.
  toJSON(): string {
    return '[DPoP key]';
  }

  [inspect.custom](): string {
    return 'DPoPKey [hidden]';
  }
}
