import { errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { OidcError } from '../errors.js';
import { CLOCK_SKEW_STATUS, clockSkewReason } from './clock-skew.js';

/** Checks that depend on the request the ID token answers. */
export interface IdTokenValidationOptions {
  /** The `max_age` sent at login: `auth_time` must be recent enough. */
  maxAge?: number;
  /** The `nonce` sent at login. */
  nonce?: string;
  /** The organization asked for: an `org_...` ID is matched to `org_id`, a name to `org_name`. */
  organization?: string;
}

export interface IdTokenSettings {
  issuer: string;
  clientID: string;
  alg: string;
  clockTolerance: number;
}

export type IdTokenClaims = JWTPayload & { sub: string; iss: string; iat: number; exp: number; [claim: string]: unknown };

function invalid(reason: string, status = 400): OidcError {
  return new OidcError('ERR_ID_TOKEN_INVALID', `ID token invalid: ${reason}`, { status });
}

/**
 * Validates an ID token completely: the signature against the OP's JWKS (an
 * unknown `kid` refetches the JWKS at most once, then fails), the one expected
 * `alg`, `iss`, `aud`, `azp`, `exp`, `iat`, `sub`, and the request-bound
 * `nonce`, `auth_time` and organization claims.
 */
export async function validateIdToken(
  idToken: string,
  keys: JWTVerifyGetKey,
  settings: IdTokenSettings,
  expected: IdTokenValidationOptions & { sub?: string; refreshed?: boolean } = {},
): Promise<IdTokenClaims> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(idToken, keys, {
      issuer: settings.issuer,
      audience: settings.clientID,
      algorithms: [settings.alg],
      clockTolerance: settings.clockTolerance,
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat'],
    }));
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired && typeof err.payload.exp === 'number') {
      const late = Math.floor(Date.now() / 1000) - err.payload.exp;
      throw invalid(clockSkewReason('exp', late, settings.clockTolerance), CLOCK_SKEW_STATUS);
    }
    throw invalid(describeJoseError(err));
  }

  const now = Math.floor(Date.now() / 1000);
  const tolerance = settings.clockTolerance;
  if (typeof payload.sub !== 'string' || payload.sub.length === 0) throw invalid('"sub" must be a non-empty string');
  if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload.azp === undefined) throw invalid('"azp" is required with several audiences');
  if (payload.azp !== undefined && payload.azp !== settings.clientID) throw invalid('"azp" is not this client');
  if (expected.nonce !== undefined && payload.nonce !== expected.nonce) throw invalid('"nonce" does not match');
  if (expected.nonce === undefined && payload.nonce !== undefined && expected.sub === undefined && expected.refreshed !== true) {
    // A nonce we did not ask for means the token answers another request (a refreshed
    // token may repeat the nonce of the login it continues).
    throw invalid('unexpected "nonce"');
  }
  // jose checks "iat" only against a maximum age; a token issued in the future is refused here.
  if (typeof payload.iat === 'number' && payload.iat > now + tolerance) throw invalid(clockSkewReason('iat', payload.iat - now, tolerance), CLOCK_SKEW_STATUS);
  if (expected.maxAge !== undefined) {
    if (typeof payload.auth_time !== 'number') throw invalid('"auth_time" is required when max_age was asked');
    if (payload.auth_time + expected.maxAge < now - tolerance) throw invalid('"auth_time" is older than max_age allows');
  }
  if (expected.organization !== undefined) {
    const org = expected.organization;
    if (org.startsWith('org_')) {
      if (payload.org_id !== org) throw invalid('"org_id" does not match the organization');
    } else if (typeof payload.org_name !== 'string' || payload.org_name !== org.toLowerCase()) {
      throw invalid('"org_name" does not match the organization');
    }
  }
  if (expected.sub !== undefined && payload.sub !== expected.sub) throw invalid('"sub" differs from the session\'s user');
  return payload as IdTokenClaims;
}

function describeJoseError(err: unknown): string {
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `"${err.claim}" check failed (${err.reason})`;
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'signature verification failed';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'no key in the JWKS matches its "kid"';
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'unexpected "alg"';
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid) return 'malformed token';
  if (err instanceof joseErrors.JWKSTimeout) return 'the JWKS could not be fetched in time';
  if (err instanceof joseErrors.JOSEError) return err.code;
  return 'could not be verified';
}
