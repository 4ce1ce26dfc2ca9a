import * as oidc from 'openid-client';
import { MfaRequiredError, OidcError, type ErrorCode } from '../errors.js';
import { CLOCK_SKEW_STATUS, clockSkewReason } from './clock-skew.js';
import { REQUEST_URL } from './http.js';

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
    return opAnswered(what, err.error, description, err.status, endpointOf(err.response));
  }
  if (err instanceof oidc.WWWAuthenticateChallengeError) {
    // A 401 with a WWW-Authenticate header (e.g. a wrong client secret): the OP's
    // error is a parameter of the challenge, not the body.
    const challenge = err.cause.find((c) => typeof c.parameters.error === 'string');
    const error = challenge?.parameters.error ?? (err.status === 401 ? 'invalid_client' : 'invalid_request');
    return opAnswered(what, error, OidcError.describe(challenge?.parameters.error_description), err.status, endpointOf(err.response));
  }
  if (err instanceof oidc.AuthorizationResponseError) {
    const description = OidcError.describe(err.error_description);
    return new OidcError('ERR_OP_ERROR', `${what}: the OP answered "${safeWord(err.error)}"${description === undefined ? '' : `: ${description}`}`, {
      status: 400,
      error: err.error,
      ...(description === undefined ? {} : { errorDescription: description }),
    });
  }
  if (isNetworkError(err)) {
    const timedOut = isTimeout(err);
    const url = requestUrlOf(err);
    const system = systemErrorOf(err);
    const where = url === undefined ? '' : ` at ${url}`;
    const because = system === undefined ? '' : ` (${system.code})`;
    return new OidcError('ERR_OP_UNREACHABLE', `${what}: the OP ${timedOut ? 'did not answer in time' : 'could not be reached'}${where}${because}`, {
      status: timedOut ? 504 : 502,
      ...(url === undefined ? {} : { url }),
      // The network cause (ECONNREFUSED, ENOTFOUND, ...) names a host and a port, never a token.
      ...(system === undefined ? {} : { cause: system }),
    });
  }
  const skew = clockSkewOf(err);
  if (skew !== undefined) return new OidcError('ERR_ID_TOKEN_INVALID', `${what}: ID token invalid: ${skew}`, { status: CLOCK_SKEW_STATUS });
  const response = responseOf(err);
  if (response !== undefined && response.status >= 400) {
    // An error status without an OAuth error body (Glewlwyd answers refused requests with an
    // empty 400 or 403): still the OP refusing, with its HTTP status.
    return opAnswered(what, undefined, undefined, response.status, endpointOf(response));
  }
  let message = err instanceof Error ? err.message : 'unexpected failure';
  // openid-client wraps the failed check in a generic message; the cause, when it is one of
  // oauth4webapi's own errors, names the check in a fixed text (values stay in its own cause).
  const cause = err instanceof oidc.ClientError ? err.cause : undefined;
  if (cause instanceof Error && cause.name === 'OperationProcessingError' && cause.message !== message) message += ` (${cause.message})`;
  const url = endpointOf(response);
  if (response !== undefined) message += ` (HTTP ${response.status}${url === undefined ? '' : ` from ${url}`})`;
  return new OidcError(invalidCode, `${what}: ${message}`, {
    status: invalidCode === 'ERR_INVALID_RESPONSE' ? 502 : 400,
    ...(response === undefined ? {} : { opStatus: response.status }),
    ...(url === undefined ? {} : { url }),
  });
}

/**
 * The OP refused a request (an OAuth error, or an error status with no error body). The status
 * the app answers: 401 and 403 as the OP gave them, 5xx as 502 (the OP failed), else 400.
 */
function opAnswered(what: string, error: string | undefined, description: string | undefined, opStatus: number, url: string | undefined): OidcError {
  const answer = error === undefined ? `refused the request with HTTP ${opStatus} and no error body` : `answered "${safeWord(error)}" (HTTP ${opStatus})`;
  const from = url === undefined ? '' : ` at ${url}`;
  // The OP refusing the client itself is the app's configuration: say which options to check.
  const hint = error === 'invalid_client' || error === 'unauthorized_client' ? '; check clientID, clientSecret and clientAuthMethod' : '';
  return new OidcError('ERR_OP_ERROR', `${what}: the OP ${answer}${from}${description === undefined ? '' : `: ${description}`}${hint}`, {
    status: refusalStatus(opStatus),
    opStatus,
    ...(error === undefined ? {} : { error }),
    ...(description === undefined ? {} : { errorDescription: description }),
    ...(url === undefined ? {} : { url }),
  });
}

/** What the app answers for an OP's refusal: 401 and 403 as the OP gave them, 5xx as 502 (the OP failed), else 400. */
export function refusalStatus(opStatus: number): number {
  return opStatus === 401 || opStatus === 403 ? opStatus : opStatus >= 500 ? 502 : 400;
}

/** oauth4webapi refused a time claim (its cause holds `claim`, `now`, `tolerance`, `claims`): how far off. */
function clockSkewOf(err: unknown): string | undefined {
  const check = (err as { cause?: { code?: unknown; cause?: unknown } } | undefined)?.cause;
  if (check?.code !== 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED') return undefined;
  const { claim, now, tolerance, claims } = (check.cause ?? {}) as { claim?: unknown; now?: unknown; tolerance?: unknown; claims?: Record<string, unknown> };
  const value = typeof claim === 'string' ? claims?.[claim] : undefined;
  if ((claim !== 'exp' && claim !== 'nbf') || typeof now !== 'number' || typeof value !== 'number') return undefined;
  return clockSkewReason(claim, claim === 'exp' ? now - value : value - now, typeof tolerance === 'number' ? tolerance : 0);
}

/** A fetch `Response` (from any realm) that openid-client kept as the cause of its error. */
function responseOf(err: unknown): Response | undefined {
  let e = err as { cause?: unknown } | undefined;
  for (let depth = 0; typeof e === 'object' && e !== null && depth < 3; depth += 1) {
    const candidate = e.cause as { status?: unknown; headers?: unknown; url?: unknown } | undefined;
    if (typeof candidate === 'object' && candidate !== null && typeof candidate.status === 'number' && typeof candidate.url === 'string' && typeof candidate.headers === 'object') {
      return candidate as Response;
    }
    e = e.cause as typeof e;
  }
  return undefined;
}

/** The URL a response came from, without its query string (which could carry request data). */
function endpointOf(response: Response | undefined): string | undefined {
  if (response === undefined || !response.url) return undefined;
  return withoutQuery(response.url);
}

function withoutQuery(href: string): string | undefined {
  try {
    const url = new URL(href);
    return `${url.origin}${url.pathname}`;
  } catch {
    return undefined;
  }
}

/** The URL `createFetch` tagged a failed request with. */
function requestUrlOf(err: unknown, depth = 0): string | undefined {
  if (typeof err !== 'object' || err === null || depth > 4) return undefined;
  const tagged = (err as Record<symbol, unknown>)[REQUEST_URL];
  if (typeof tagged === 'string') return tagged;
  return requestUrlOf((err as { cause?: unknown }).cause, depth + 1);
}

/** The system error (ECONNREFUSED, ENOTFOUND, ...) under a network failure, with a fixed message. */
function systemErrorOf(err: unknown, depth = 0): (Error & { code: string }) | undefined {
  if (typeof err !== 'object' || err === null || depth > 5) return undefined;
  const e = err as { code?: unknown; cause?: unknown; errors?: unknown };
  if (depth > 0 && typeof e.code === 'string' && /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/.test(e.code)) {
    const system = Object.assign(new Error(`${e.code}${describeAddress(err)}`), { code: e.code });
    system.name = 'NetworkError';
    return system;
  }
  // happy-eyeballs failures come as an AggregateError of one error per address
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const found = systemErrorOf(inner, depth + 1);
      if (found) return found;
    }
  }
  return systemErrorOf(e.cause, depth + 1);
}

function describeAddress(err: object): string {
  const { address, port, hostname } = err as { address?: unknown; port?: unknown; hostname?: unknown };
  if (typeof hostname === 'string') return ` ${hostname}`;
  if (typeof address === 'string') return ` ${address}${typeof port === 'number' ? `:${port}` : ''}`;
  return '';
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
