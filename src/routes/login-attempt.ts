/**
 * What both steps of the password login route share about one attempt: the
 * app's throttle hook, the user's IP for the OP, and sorting the OP's answer
 * into "about the credentials" (one generic answer) or "the developer's
 * problem" (a non-exposed 5xx).
 */
import type { Request } from 'express';
import type { LoginAttempt } from '../config/types.js';
import { debug } from '../debug.js';
import { OidcError } from '../errors.js';
import type { Runtime } from '../runtime.js';

const log = debug('password-login');

/**
 * OP answers that are the developer's problem (a wrong client, scope or
 * request), not the user's: they become a non-exposed 502. Every other OP
 * error to a password grant is about the credentials or the account (wrong
 * password, unknown or blocked user, too many attempts, a leaked password,
 * a user the client may not sign in, ...) and gets one generic answer.
 */
const DEVELOPER_ERRORS = new Set(['invalid_client', 'invalid_request', 'invalid_scope', 'unsupported_grant_type', 'invalid_target', 'server_error', 'temporarily_unavailable']);

/** An OP error answer to a grant, sorted into "about the credentials" or not. */
export function isCredentialError(err: unknown): err is OidcError {
  return err instanceof OidcError && err.code === 'ERR_OP_ERROR' && err.error !== undefined && !DEVELOPER_ERRORS.has(err.error);
}

/** Any other OP error answer is a 5xx the user is not shown. */
export function opFailure(err: unknown): unknown {
  if (err instanceof OidcError && err.code === 'ERR_OP_ERROR' && err.status < 500) {
    return new OidcError('ERR_OP_ERROR', err.message, { status: 502, cause: err, ...(err.error === undefined ? {} : { error: err.error }) });
  }
  return err;
}

export const clientIp = (req: Request): string => (typeof req.ip === 'string' ? req.ip : '');

/** `auth0-forwarded-for`, so the OP's brute-force protection sees the user's IP rather than the server's. */
export function forwardedFor(req: Request): { headers?: Record<string, string> } {
  const ip = clientIp(req);
  return ip.length > 0 ? { headers: { 'auth0-forwarded-for': ip } } : {};
}

/** Runs the app's throttle hook; `false` refuses the attempt before the OP is asked. */
export async function throttle(rt: Runtime, req: Request, attempt: LoginAttempt): Promise<void> {
  const hook = rt.config.passwordLogin === false ? undefined : rt.config.passwordLogin.throttle;
  if (hook === undefined) return;
  const allowed: unknown = await hook(attempt, req);
  if (allowed === true) return;
  if (allowed !== false) throw new OidcError('ERR_CONFIG_INVALID', 'passwordLogin.throttle must return (or resolve to) true or false', { status: 500 });
  log('password login attempt throttled (%s step)', attempt.step);
  throw new OidcError('ERR_LOGIN_THROTTLED', 'too many sign-in attempts; wait a moment and try again', { status: 429 });
}
