import { errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { OidcError } from '../errors.js';

/** The member of `events` that makes a JWT a back-channel logout token. */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/**
 * Seconds a logout token is accepted after its `iat` (plus clock tolerance).
 * OPs send it the moment the session ends, so a short window suffices, and
 * it bounds how long a `jti` must be remembered to refuse replays.
 */
export const LOGOUT_TOKEN_MAX_AGE = 120;

/** Longest `jti`, `sid` or `sub` accepted: they become keys in the logout index. */
const MAX_ID_LENGTH = 256;

export interface LogoutTokenSettings {
  issuer: string;
  clientID: string;
  /** The one `alg` accepted, the same as for ID tokens. */
  alg: string;
  clockTolerance: number;
}

/** What a valid logout token says: whose sessions end (`sid` and/or `sub`), and its `jti` for replay checks. */
export interface LogoutTokenClaims {
  iss: string;
  jti: string;
  iat: number;
  sid?: string;
  sub?: string;
}

function invalid(reason: string): OidcError {
  return new OidcError('ERR_LOGOUT_TOKEN_INVALID', `logout token invalid: ${reason}`, { status: 400, error: 'invalid_request' });
}

function isId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_ID_LENGTH;
}

/**
 * Validates a back-channel logout token (OpenID Connect Back-Channel Logout
 * 1.0, section 2.6): signed by the OP with the expected `alg` (never `none`),
 * `iss`, `aud`, `iat` within `LOGOUT_TOKEN_MAX_AGE` and not in the future,
 * `exp` when present, a `jti`, an `events` object with the back-channel
 * logout member, `sid` and/or `sub`, and no `nonce` (so an ID token is never
 * taken for a logout token). An explicit `typ` must be `logout+jwt` or `JWT`.
 *
 * Throws `ERR_LOGOUT_TOKEN_INVALID` (400) for a bad token, and
 * `ERR_OP_UNREACHABLE` (502) when the OP's keys cannot be fetched.
 *
 * @example
 * ```ts
 * const claims = await validateLogoutToken(token, keys, { issuer, clientID, alg: 'RS256', clockTolerance: 60 });
 * ```
 */
export async function validateLogoutToken(token: string, keys: JWTVerifyGetKey, settings: LogoutTokenSettings): Promise<LogoutTokenClaims> {
  let payload: JWTPayload;
  let typ: string | undefined;
  try {
    ({ payload, protectedHeader: { typ } } = await jwtVerify(token, keys, {
      issuer: settings.issuer,
      audience: settings.clientID,
      algorithms: [settings.alg],
      clockTolerance: settings.clockTolerance,
      maxTokenAge: LOGOUT_TOKEN_MAX_AGE,
      requiredClaims: ['iss', 'aud', 'iat', 'jti'],
    }));
  } catch (err) {
    throw joseFailure(err);
  }

  if (typ !== undefined && !/^(application\/)?(logout\+jwt|jwt)$/i.test(typ)) throw invalid('unexpected "typ"');
  if (!isId(payload.jti)) throw invalid('"jti" must be a short non-empty string');
  const events = payload.events;
  if (typeof events !== 'object' || events === null || Array.isArray(events)) throw invalid('"events" must be an object');
  const event = (events as Record<string, unknown>)[BACKCHANNEL_LOGOUT_EVENT];
  if (typeof event !== 'object' || event === null || Array.isArray(event)) throw invalid('"events" has no back-channel logout event');
  if (payload.nonce !== undefined) throw invalid('a logout token must not carry a "nonce"');
  if (payload.sid !== undefined && !isId(payload.sid)) throw invalid('"sid" must be a short non-empty string');
  if (payload.sub !== undefined && !isId(payload.sub)) throw invalid('"sub" must be a short non-empty string');
  if (payload.sid === undefined && payload.sub === undefined) throw invalid('"sid" or "sub" is required');

  const claims: LogoutTokenClaims = { iss: payload.iss as string, jti: payload.jti, iat: payload.iat as number };
  if (payload.sid !== undefined) claims.sid = payload.sid as string;
  if (payload.sub !== undefined) claims.sub = payload.sub;
  return claims;
}

function joseFailure(err: unknown): OidcError {
  const keysUnavailable =
    !(err instanceof joseErrors.JOSEError) || err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JWKSInvalid || err.code === 'ERR_JOSE_GENERIC';
  if (keysUnavailable) {
    // The key set could not be fetched or read: not the sender's fault, and worth a retry.
    return new OidcError('ERR_OP_UNREACHABLE', "logout token: the OP's keys could not be fetched", { status: 502 });
  }
  // jose reports a token older than maxTokenAge as expired, naming the "iat" claim.
  if ((err instanceof joseErrors.JWTExpired || err instanceof joseErrors.JWTClaimValidationFailed) && err.claim === 'iat') {
    return invalid('"iat" is too old or in the future');
  }
  if (err instanceof joseErrors.JWTExpired) return invalid('"exp" is in the past');
  if (err instanceof joseErrors.JWTClaimValidationFailed) return invalid(`"${err.claim}" check failed`);
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return invalid('signature verification failed');
  if (err instanceof joseErrors.JWKSNoMatchingKey) return invalid('no key of the OP matches');
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return invalid('unexpected "alg"');
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid) return invalid('malformed token');
  return invalid(err.code);
}
