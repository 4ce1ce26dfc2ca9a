/**
 * Every error this library throws or passes to `next()` is an `OidcError`
 * with a stable `code`, so apps can `switch (err.code)` instead of parsing
 * messages. Messages never contain a token, a code, a secret or a cookie
 * value: they name what failed, not what was sent.
 */
export type ErrorCode =
  | 'ERR_CONFIG_INVALID'
  | 'ERR_DISCOVERY_FAILED'
  | 'ERR_OP_UNREACHABLE'
  | 'ERR_OP_ERROR'
  | 'ERR_MFA_REQUIRED'
  | 'ERR_INVALID_RESPONSE'
  | 'ERR_ID_TOKEN_INVALID'
  | 'ERR_STATE_MISMATCH'
  | 'ERR_ISSUER_MISMATCH'
  | 'ERR_TRANSACTION_MISSING'
  | 'ERR_TRANSACTION_INVALID'
  | 'ERR_CALLBACK_INVALID'
  | 'ERR_PAR_UNSUPPORTED'
  | 'ERR_LOGOUT_UNSUPPORTED'
  | 'ERR_NOT_AUTHENTICATED'
  | 'ERR_FORBIDDEN_CLAIM'
  | 'ERR_STEP_UP_REQUIRED'
  | 'ERR_STEP_UP_FAILED'
  | 'ERR_SESSION_EXPIRED'
  | 'ERR_PENDING_LOGIN_INVALID'
  | 'ERR_LOGIN_THROTTLED'
  | 'ERR_REFRESH_FAILED'
  | 'ERR_REFRESH_UNAVAILABLE'
  | 'ERR_REFRESH_LOCK_TIMEOUT'
  | 'ERR_SESSION_STORE_UNAVAILABLE'
  | 'ERR_LOGIN_FAILED'
  | 'ERR_BAD_REQUEST'
  | 'ERR_LOGOUT_TOKEN_INVALID'
  | 'ERR_DPOP'
  | 'ERR_RESOURCE_UNREACHABLE'
  | 'ERR_ABORTED'
  | 'ERR_CROSS_SITE_REQUEST';

export interface OidcErrorOptions {
  /** HTTP status the error handler should answer with. */
  status?: number;
  /** The OP's `error` (RFC 6749 section 5.2), when the OP sent one. */
  error?: string;
  /** The OP's `error_description`, when the OP sent one. */
  errorDescription?: string;
  cause?: unknown;
}

export class OidcError extends Error {
  readonly code: ErrorCode;
  /** HTTP status for Express's error handling (`err.status`). */
  readonly status: number;
  /** Alias Express and http-errors read. */
  readonly statusCode: number;
  /** Whether the message is safe to show to the end user (4xx). */
  readonly expose: boolean;
  readonly error?: string;
  readonly errorDescription?: string;

  constructor(code: ErrorCode, message: string, options: OidcErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OidcError';
    this.code = code;
    this.status = options.status ?? 400;
    this.statusCode = this.status;
    this.expose = this.status < 500;
    if (options.error !== undefined) this.error = options.error;
    if (options.errorDescription !== undefined) this.errorDescription = options.errorDescription;
  }

  /** `error_description` is OP-controlled text: keep it short and printable. */
  static describe(text: unknown): string | undefined {
    if (typeof text !== 'string' || text.length === 0) return undefined;
    return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
  }

  /** An OP `error` code when it is a plain ASCII word; anything else is never echoed. */
  static errorCode(value: unknown): string | undefined {
    return typeof value === 'string' && /^[\w.:-]{1,64}$/.test(value) ? value : undefined;
  }
}

/** `mfa_required` from a password grant: the app continues with Auth0's MFA API using `mfaToken`. */
export class MfaRequiredError extends OidcError {
  /** The `mfa_token` the OP returned; pass it to the MFA API. */
  readonly mfaToken: string;

  constructor(mfaToken: string, errorDescription?: string) {
    super('ERR_MFA_REQUIRED', 'multi-factor authentication is required', {
      status: 403,
      error: 'mfa_required',
      ...(errorDescription === undefined ? {} : { errorDescription }),
    });
    this.name = 'MfaRequiredError';
    this.mfaToken = mfaToken;
  }

  // Keep the MFA token out of JSON renderings and logs of the error.
  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, error: this.error };
  }
}

/**
 * The password login route's answer when the OP asks for a second factor:
 * the OP's `mfa_token` stays on the server, and the browser holds a
 * short-lived pending login bound to it by a cookie. Render a form that
 * posts `pendingLogin` (this handle) and `otp` (the one-time code) to the
 * same route; the login then completes into a session.
 */
export class MfaPendingError extends OidcError {
  /** The pending login's handle: the form's `pendingLogin` field. Useless without this browser's cookie. */
  declare readonly pendingLogin: string;
  /** Epoch seconds after which the pending login ends. */
  readonly expiresAt: number;
  /** Codes that may still be tried before the pending login ends. */
  readonly attemptsLeft: number;
  /** True when a code was sent and was wrong. */
  readonly retry: boolean;
  /**
   * `otp`: ask for the code of the user's authenticator app (form field `otp`),
   * or offer to send one (`challenge=oob`); `oob`: a code was sent by SMS,
   * voice or e-mail (form field `bindingCode`).
   */
  readonly codeType: 'otp' | 'oob';

  constructor(pendingLogin: string, expiresAt: number, attemptsLeft: number, retry: boolean, codeType: 'otp' | 'oob' = 'otp') {
    super('ERR_MFA_REQUIRED', retry ? 'wrong code; try again' : codeType === 'oob' ? 'enter the code that was sent to you' : 'enter the one-time code to finish signing in', {
      status: 401,
      error: 'mfa_required',
    });
    this.codeType = codeType;
    this.name = 'MfaPendingError';
    // Readable by the app's error handler, but left out of JSON, util.inspect and loggers' error serialisers.
    Object.defineProperty(this, 'pendingLogin', { value: pendingLogin, enumerable: false, writable: false, configurable: false });
    this.expiresAt = expiresAt;
    this.attemptsLeft = attemptsLeft;
    this.retry = retry;
  }
}

/**
 * The IdP's session ceiling (the ID token's `session_expiry`, IPSIE SL1) has
 * passed: the session is over whatever its activity or refresh token, and no
 * refresh was attempted. The user must sign in again.
 */
export class SessionExpiredError extends OidcError {
  constructor(message = 'the session reached the end the identity provider set for it (session_expiry); sign in again') {
    super('ERR_SESSION_EXPIRED', message, { status: 401 });
    this.name = 'SessionExpiredError';
  }
}

export function isOidcError(err: unknown): err is OidcError {
  return err instanceof OidcError;
}
