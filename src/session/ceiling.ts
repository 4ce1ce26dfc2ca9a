import { OidcError, SessionExpiredError } from '../errors.js';
import { nowSeconds } from './data.js';

/** Epoch seconds from year 2286 on: a value this large is milliseconds by mistake. */
const MAX_EPOCH_SECONDS = 10_000_000_000;

/**
 * The IdP's session ceiling (IPSIE SL1): the ID token's `session_expiry`,
 * epoch seconds after which the session must end, whatever its activity and
 * refresh token. Undefined without the claim. A malformed claim (not whole
 * epoch seconds, or milliseconds) fails the login rather than being guessed
 * at, and a ceiling already past ends the login before a session is made.
 */
export function sessionCeiling(claims: Record<string, unknown>, now = nowSeconds()): number | undefined {
  const value = claims.session_expiry;
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0 || value >= MAX_EPOCH_SECONDS) {
    throw new OidcError('ERR_ID_TOKEN_INVALID', 'ID token invalid: "session_expiry" must be epoch seconds', { status: 400 });
  }
  if (value <= now) throw new SessionExpiredError();
  return value;
}

/** Whether the session's ceiling has passed (false without one). */
export function pastCeiling(ceiling: number | undefined, now = nowSeconds()): boolean {
  return ceiling !== undefined && now >= ceiling;
}
