import { randomBytes, randomUUID } from 'node:crypto';

import {
  SignJWT,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWTHeaderParameters,
  type JWTPayload,
} from 'jose';

import type { OPState } from './state.js';
import type { IdTokenTamperer } from './types.js';

/** A fresh RS256 + ES256 signing key pair set, as private JWKs with new kids. */
export async function generateSigningKeys(): Promise<JWK[]> {
  const suffix = randomUUID().slice(0, 8);
  const rsa = await generateKeyPair('RS256', { extractable: true });
  const ec = await generateKeyPair('ES256', { extractable: true });
  return [
    // RS256 first: it is what clients get by default (id_token_signed_response_alg RS256)
    { ...(await exportJWK(rsa.privateKey)), kid: `rs256-${suffix}`, alg: 'RS256', use: 'sig' },
    { ...(await exportJWK(ec.privateKey)), kid: `es256-${suffix}`, alg: 'ES256', use: 'sig' },
  ];
}

const PRIVATE_JWK_MEMBERS = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi']);

export function publicJwk(jwk: JWK): JWK {
  return Object.fromEntries(Object.entries(jwk).filter(([member]) => !PRIVATE_JWK_MEMBERS.has(member)));
}

/** New signing keys, keeping the previous ones published (not used) when keepPrevious. */
export async function rotateSigningKeys(state: OPState, keepPrevious: boolean): Promise<void> {
  const fresh = await generateSigningKeys();
  state.privateJwks = keepPrevious ? [...fresh, ...state.privateJwks] : fresh;
}

export function signingKeys(state: OPState): { privateJwks: JWK[]; publicJwks: JWK[] } {
  return { privateJwks: state.privateJwks.map((k) => ({ ...k })), publicJwks: state.privateJwks.map(publicJwk) };
}

// --- id_token tampering -------------------------------------------------------------------------
async function foreignKeyFor(state: OPState, alg: string): Promise<JWK> {
  state.foreignKeys ??= await generateSigningKeys();
  return state.foreignKeys.find((jwk) => jwk.alg === alg) ?? (state.foreignKeys[0] as JWK);
}

/** The id_token after fn changed it, re-signed as fn asks (see TestOP.tamperIdToken). */
export async function tamper(state: OPState, idToken: string, fn: IdTokenTamperer): Promise<string> {
  const header = { ...decodeProtectedHeader(idToken) } as Record<string, unknown>;
  const claims = { ...decodeJwt(idToken) } as Record<string, unknown>;
  const result = fn(claims, header) ?? {};
  const newHeader = result.header ?? header;
  const newClaims = result.claims ?? claims;
  const signWith = result.signWith ?? 'op';

  if (signWith === 'none') {
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    return `${encode(newHeader)}.${encode(newClaims)}.${randomBytes(64).toString('base64url')}`;
  }

  const alg = typeof newHeader.alg === 'string' ? newHeader.alg : 'RS256';
  const { privateJwks } = state;
  const jwk =
    signWith === 'foreign'
      ? await foreignKeyFor(state, alg)
      : (privateJwks.find((k) => k.kid === newHeader.kid) ?? privateJwks.find((k) => k.alg === alg) ?? (privateJwks[0] as JWK));
  const key = await importJWK(jwk, jwk.alg);
  return new SignJWT(newClaims as JWTPayload)
    .setProtectedHeader({ ...newHeader, alg: jwk.alg } as JWTHeaderParameters)
    .sign(key);
}
