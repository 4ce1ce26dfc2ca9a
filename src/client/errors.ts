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
  const message = err instanceof Error ? err.message : 'unexpected failure';
  return new OidcError(invalidCode, `${what}: ${message}`, { status: invalidCode === 'ERR_INVALID_RESPONSE' ? 502 : 400 });
}

/** OP error codes are ASCII words; anything else is not echoed. */
function safeWord(value: string): string {
  return /^[\w.:-]{1,64}$/.test(value) ? value : 'invalid error code';
}

function isTimeout(err: unknown): boolean {
  const e = err as { name?: string; cause?: { name?: string } };
  return e?.name === 'TimeoutError' || e?.cause?.name === 'TimeoutError';
}

function isNetworkError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'AbortError' || err.name === 'TimeoutError') return true;
  if (err instanceof TypeError && /fetch failed/i.test(err.message)) return true;
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error && cause !== err) return isNetworkError(cause) || 'code' in cause && typeof (cause as { code?: unknown }).code === 'string' && /^E[A-Z]+/.test((cause as { code: string }).code);
  return false;
}
