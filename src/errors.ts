import { inspect } from 'node:util';

/**
 * Every error this library throws or passes to `next()` is an `OidcError`
 * with a stable `code`, so apps can `switch (err.code)` instead of parsing
 * messages. Messages never contain a token, a code, a secret or a cookie
 * value: they name what failed, not what was sent. The message of an exposed
 * (4xx) error is a fixed text: it never carries request data (parameter names
 * or values), so an error handler that shows it cannot be made to reflect
 * markup into the app's pages.
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
  | 'ERR_REFRESH_TIMEOUT'
  | 'ERR_SESSION_STORE_UNAVAILABLE'
  | 'ERR_LOGIN_FAILED'
  | 'ERR_BAD_REQUEST'
  | 'ERR_LOGOUT_TOKEN_INVALID'
  | 'ERR_DPOP'
  | 'ERR_RESOURCE_UNREACHABLE'
  | 'ERR_ABORTED'
  | 'ERR_CROSS_SITE_REQUEST'
  | 'ERR_TOKEN_EXCHANGE_INVALID'
  | 'ERR_TOKEN_EXCHANGE_FAILED'
  | 'ERR_CONNECTION_TOKEN_FAILED'
  | 'ERR_SESSION_TRANSFER_FAILED'
  | 'ERR_ACTOR_UNAVAILABLE';

export interface OidcErrorOptions {
  /** HTTP status the error handler should answer with. */
  status?: number;
  /** The OP's `error` (RFC 6749 section 5.2), when the OP sent one. */
  error?: string;
  /** The OP's `error_description`, when the OP sent one. */
  errorDescription?: string;
  /**
   * The request parameter at fault, for the app's log. It is request data:
   * only a plain name (letters, digits, `_ . - [ ]`, 64 at most) is kept.
   */
  parameter?: string;
  /** The HTTP status of the OP's answer, when the OP answered. */
  opStatus?: number;
  /** The OP endpoint that failed, without its query string. */
  url?: string;
  cause?: unknown;
}

/** Characters that start markup or an entity, and control characters: never in an exposed message. */
const MARKUP = /[<>&`\x00-\x1f\x7f]/g;
/** A parameter name plain enough to log as it is. */
const PLAIN_NAME = /^[\w.\[\]-]{1,64}$/;

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
  /** The request parameter at fault (a plain name; request data, so never part of the message). */
  readonly parameter?: string;
  /** The HTTP status of the OP's answer, when the OP answered (`status` is what the app answers). */
  readonly opStatus?: number;
  /** The OP endpoint that failed, without its query string. */
  readonly url?: string;

  constructor(code: ErrorCode, message: string, options: OidcErrorOptions = {}) {
    const status = options.status ?? 400;
    // Exposed messages are fixed texts; should request data ever slip into one, it cannot form markup.
    super(status < 500 ? message.replace(MARKUP, '?') : message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OidcError';
    this.code = code;
    this.status = status;
    this.statusCode = this.status;
    this.expose = this.status < 500;
    if (options.error !== undefined) this.error = options.error;
    if (options.errorDescription !== undefined) this.errorDescription = options.errorDescription;
    if (options.parameter !== undefined) this.parameter = OidcError.parameterName(options.parameter);
    if (options.opStatus !== undefined) this.opStatus = options.opStatus;
    if (options.url !== undefined) this.url = options.url;
  }

  /** A request parameter's name when it is plain enough to log; anything else reads `(unprintable)`. */
  static parameterName(name: string): string {
    return PLAIN_NAME.test(name) ? name : '(unprintable)';
  }

  /**
   * Printed (`console.error`, `util.inspect`) with its stack and fields; a
   * cause shows its name and message only, never its own fields, which may
   * hold a store's command (a session) or an OP's response body.
   */
  [inspect.custom](_depth: number, options: object): string {
    const fields: Record<string, unknown> = { code: this.code, status: this.status };
    if (this.error !== undefined) fields.error = this.error;
    if (this.errorDescription !== undefined) fields.errorDescription = this.errorDescription;
    if (this.parameter !== undefined) fields.parameter = this.parameter;
    if (this.opStatus !== undefined) fields.opStatus = this.opStatus;
    if (this.url !== undefined) fields.url = this.url;
    const cause = this.cause instanceof Error ? `\n  [cause]: ${this.cause.name}: ${this.cause.message}` : '';
    return `${this.stack ?? `${this.name}: ${this.message}`} ${inspect(fields, options)}${cause}`;
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
  // Private, so no printout (inspect, JSON, a logger walking the error's keys) can show it.
  readonly #mfaToken: string;

  /** The `mfa_token` the OP returned; pass it to the MFA API. */
  get mfaToken(): string {
    return this.#mfaToken;
  }

  constructor(mfaToken: string, errorDescription?: string) {
    super('ERR_MFA_REQUIRED', 'multi-factor authentication is required', {
      status: 403,
      error: 'mfa_required',
      ...(errorDescription === undefined ? {} : { errorDescription }),
    });
    this.name = 'MfaRequiredError';
    this.#mfaToken = mfaToken;
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

/** Whether `err` is one of this library's errors (any of its classes). */
export function isOidcError(err: unknown): err is OidcError {
  return err instanceof OidcError;
}

/**
 * What a log line may say of a failure: the stable code of an `OidcError`, else a fixed text.
 * Never the message: other errors' messages can hold request data or a token.
 */
export function loggableCode(err: unknown): string {
  return err instanceof OidcError ? err.code : 'an unexpected error';
}
