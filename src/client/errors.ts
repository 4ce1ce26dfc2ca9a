import * as oidc from 'openid-client';
import { MfaRequiredError, OidcError, type ErrorCode } from '../errors.js';

/**
 * Turns whatever openid-client, fetch or jose threw into an `OidcError`.
 * Only openid-client's own messages are reused: they describe the check that
 * failed and keep values (claims, bodies) in `cause`, which is dropped here so
 * no token or claim can reach a log through the error.
 */
export function toOidcError(err: unknown, what: string, invalidCode: ErrorCode = 'ERR_INVALID_RESPONSE'): OidcError {
  if (err instanceof OidcError) return err;

  if (err instanceof oidc.ResponseBodyError) {
    const description = OidcError.describe(err.error_description);
    if (err.error === 'mfa_required') {
      const body = err.cause as Record<string, unknown> | undefined;
      return new MfaRequiredError(typeof body?.mfa_token === 'string' ? body.mfa_token : '', description);
    }
    const status = err.status === 401 || err.status === 403 ? err.status : 400;
    return new OidcError('ERR_OP_ERROR', `${what}: the OP answered "${safeWord(err.error)}"`, {
      status,
      error: err.error,
      ...(description === undefined ? {} : { errorDescription: description }),
    });
  }
  if (err instanceof oidc.WWWAuthenticateChallengeError) {
    // A 401 with a WWW-Authenticate header (e.g. a wrong client secret): the OP's
    // error is a parameter of the challenge, not the body.
    const challenge = err.cause.find((c) => typeof c.parameters.error === 'string');
    const error = challenge?.parameters.error ?? (err.status === 401 ? 'invalid_client' : 'invalid_request');
    const description = OidcError.describe(challenge?.parameters.error_description);
    return new OidcError('ERR_OP_ERROR', `${what}: the OP answered "${safeWord(error)}"`, {
      status: err.status === 401 || err.status === 403 ? err.status : 400,
      error,
      ...(description === undefined ? {} : { errorDescription: description }),
    });
  }
  if (err instanceof oidc.AuthorizationResponseError) {
    const description = OidcError.describe(err.error_description);
    return new OidcError('ERR_OP_ERROR', `${what}: the OP answered "${safeWord(err.error)}"`, {
      status: 400,
      error: err.error,
      ...(description === undefined ? {} : { errorDescription: description }),
    });
  }
  if (isNetworkError(err)) {
    const timedOut = isTimeout(err);
    return new OidcError('ERR_OP_UNREACHABLE', `${what}: the OP ${timedOut ? 'did not answer in time' : 'could not be reached'}`, {
      status: timedOut ? 504 : 502,
    });
  }
  let message = err instanceof Error ? err.message : 'unexpected failure';
  // openid-client wraps the failed check in a generic message; the cause, when it is one of
  // oauth4webapi's own errors, names the check in a fixed text (values stay in its own cause).
  const cause = err instanceof oidc.ClientError ? err.cause : undefined;
  if (cause instanceof Error && cause.name === 'OperationProcessingError' && cause.message !== message) message += ` (${cause.message})`;
  return new OidcError(invalidCode, `${what}: ${message}`, { status: invalidCode === 'ERR_INVALID_RESPONSE' ? 502 : 400 });
}

function safeWord(value: string): string {
  return OidcError.errorCode(value) ?? 'invalid error code';
}

function isTimeout(err: unknown): boolean {
  const e = err as { name?: string; cause?: { name?: string } };
  return e?.name === 'TimeoutError' || e?.cause?.name === 'TimeoutError';
}

/**
 * Recognised by shape, not `instanceof`: fetch's errors can come from another
 * realm than openid-client's (a VM context, as under jest), and openid-client
 * then wraps them in a generic "something went wrong" ClientError.
 */
function isNetworkError(err: unknown, depth = 0): boolean {
  if (typeof err !== 'object' || err === null || depth > 4) return false;
  const e = err as { name?: unknown; message?: unknown; code?: unknown; cause?: unknown };
  if (e.name === 'AbortError' || e.name === 'TimeoutError') return true;
  if (e.name === 'TypeError' && typeof e.message === 'string' && /fetch failed/i.test(e.message)) return true;
  // A cause with a system error code (ECONNREFUSED, ECONNRESET, ...).
  if (depth > 0 && typeof e.code === 'string' && /^E[A-Z]+/.test(e.code)) return true;
  return e.cause !== err && isNetworkError(e.cause, depth + 1);
}

/**
 * The caller's `AbortSignal` fired. A signal that fired on its own deadline
 * (`AbortSignal.timeout()`) reads as the OP not answering in time; any other
 * abort is `ERR_ABORTED` (status 499, "client closed request").
 */
export function abortedError(signal: AbortSignal, what: string): OidcError {
  const reason = signal.reason as { name?: unknown } | undefined;
  if (reason?.name === 'TimeoutError') {
    return new OidcError('ERR_OP_UNREACHABLE', `${what}: the OP did not answer in time`, { status: 504 });
  }
  return new OidcError('ERR_ABORTED', `${what}: aborted by the caller`, { status: 499 });
}
