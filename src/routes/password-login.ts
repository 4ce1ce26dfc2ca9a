import type { Request, Response } from 'express';
import type { TokenSet } from '../client/token-set.js';
import type { LoginAttempt } from '../config/types.js';
import { debug } from '../debug.js';
import { MfaPendingError, MfaRequiredError, OidcError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { completeLogin } from './complete-login.js';
import { readForm, single } from './form.js';
import { MAX_CODE_ATTEMPTS, PENDING_LOGIN_TTL, PendingLogins, pendingLoginInvalid, type PendingLogin } from './pending-login.js';
import { safeReturnTo } from './return-to.js';

const log = debug('password-login');

const MAX_USERNAME = 512;
const MAX_PASSWORD = 1_024;
const MAX_RETURN_TO = 2_048;
const MAX_HANDLE = 64;
const MAX_CODE = 64;

/**
 * OP answers that are the developer's problem (a wrong client, scope or
 * request), not the user's: they become a non-exposed 502. Every other OP
 * error to a password grant is about the credentials or the account (wrong
 * password, unknown or blocked user, too many attempts, a leaked password,
 * a user the client may not sign in, ...) and gets one generic answer.
 */
const DEVELOPER_ERRORS = new Set(['invalid_client', 'invalid_request', 'invalid_scope', 'unsupported_grant_type', 'invalid_target', 'server_error', 'temporarily_unavailable']);

/** `Sec-Fetch-Site` values of a form posted from the app's own pages (or typed by the user). */
const SAME_SITE_FETCH = new Set(['same-origin', 'none']);

/**
 * One answer for every credential failure, so the response never tells
 * whether the user exists or what the OP said; the OP's answer stays in
 * `cause` (`cause.error`, e.g. `too_many_attempts`) for the app's log.
 */
function loginFailed(cause?: OidcError): OidcError {
  return new OidcError('ERR_LOGIN_FAILED', 'wrong username or password', { status: 401, ...(cause === undefined ? {} : { cause }) });
}

/** An OP error answer to a grant, sorted into "about the credentials" or not. */
function isCredentialError(err: unknown): err is OidcError {
  return err instanceof OidcError && err.code === 'ERR_OP_ERROR' && err.error !== undefined && !DEVELOPER_ERRORS.has(err.error);
}

/** Any other OP error answer is a 5xx the user is not shown. */
function opFailure(err: unknown): unknown {
  if (err instanceof OidcError && err.code === 'ERR_OP_ERROR' && err.status < 500) {
    return new OidcError('ERR_OP_ERROR', err.message, { status: 502, cause: err, ...(err.error === undefined ? {} : { error: err.error }) });
  }
  return err;
}

/**
 * Refuses a form posted from another site (login CSRF: signing the victim in
 * to the attacker's account). Browsers send `Sec-Fetch-Site` and `Origin` on
 * cross-site POSTs; requests without either (non-browser clients) pass.
 */
function checkSameOrigin(req: Request, baseURL: string): void {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string' && !SAME_SITE_FETCH.has(site.trim().toLowerCase())) {
    throw new OidcError('ERR_CROSS_SITE_REQUEST', 'password login: cross-site form posts are refused', { status: 403 });
  }
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== new URL(baseURL).origin) {
    throw new OidcError('ERR_CROSS_SITE_REQUEST', 'password login: the form was posted from another origin', { status: 403 });
  }
}

const pendingByRuntime = new WeakMap<Runtime, PendingLogins>();

function pendingLogins(rt: Runtime): PendingLogins {
  let pending = pendingByRuntime.get(rt);
  if (pending === undefined) {
    if (rt.sessions.store === undefined) throw new OidcError('ERR_CONFIG_INVALID', 'password login with MFA needs a session store', { status: 500 });
    pending = new PendingLogins(rt.sessions.store, rt.config);
    pendingByRuntime.set(rt, pending);
  }
  return pending;
}

const clientIp = (req: Request): string => (typeof req.ip === 'string' ? req.ip : '');

/** `auth0-forwarded-for`, so the OP's brute-force protection sees the user's IP rather than the server's. */
function forwardedFor(req: Request): { headers?: Record<string, string> } {
  const ip = clientIp(req);
  return ip.length > 0 ? { headers: { 'auth0-forwarded-for': ip } } : {};
}

/** Runs the app's throttle hook; `false` refuses the attempt before the OP is asked. */
async function throttle(rt: Runtime, req: Request, attempt: LoginAttempt): Promise<void> {
  const hook = rt.config.passwordLogin === false ? undefined : rt.config.passwordLogin.throttle;
  if (hook === undefined) return;
  const allowed: unknown = await hook(attempt, req);
  if (allowed === true) return;
  if (allowed !== false) throw new OidcError('ERR_CONFIG_INVALID', 'passwordLogin.throttle must return (or resolve to) true or false', { status: 500 });
  log('password login attempt throttled (%s step)', attempt.step);
  throw new OidcError('ERR_LOGIN_THROTTLED', 'too many sign-in attempts; wait a moment and try again', { status: 429 });
}

/**
 * `POST routes.passwordLogin` (when `passwordLogin` is on): signs a user in
 * with the Resource Owner Password grant (Auth0's password-realm grant with
 * `passwordLogin.realm`) from a same-origin `application/x-www-form-urlencoded`
 * form with `username`, `password` and an optional `returnTo`.
 *
 * The user's IP (`req.ip`, so Express's `trust proxy` applies) goes to the OP
 * as `auth0-forwarded-for` for its brute-force protection. Success creates the
 * same session as `/callback` and redirects (303) to `returnTo` on the app's
 * origin. Every credential failure (wrong password, unknown or blocked user,
 * too many attempts, ...) gets one generic 401 `ERR_LOGIN_FAILED`.
 *
 * When the OP asks for MFA (`mfa_required`), its `mfa_token` stays on the
 * server: the app's error handler gets `MfaPendingError` (401
 * `ERR_MFA_REQUIRED`) with a `pendingLogin` handle, the browser a cookie
 * binding it, and the form posted back with `pendingLogin` and `otp` (or
 * `challenge=oob`, then `bindingCode`) completes the login (see `mfaStep`).
 */
export async function passwordLogin(rt: Runtime, req: Request, res: Response): Promise<void> {
  const { config } = rt;
  if (config.passwordLogin === false) throw new OidcError('ERR_CONFIG_INVALID', 'passwordLogin is off', { status: 500 });
  checkSameOrigin(req, config.baseURL);

  const form = await readForm(req);
  const handle = single(form, 'pendingLogin', MAX_HANDLE);
  if (handle !== undefined) return mfaStep(rt, req, res, form, handle);

  const username = single(form, 'username', MAX_USERNAME);
  const password = single(form, 'password', MAX_PASSWORD);
  const requestedReturnTo = single(form, 'returnTo', MAX_RETURN_TO);
  if (!username || !password) {
    throw new OidcError('ERR_BAD_REQUEST', 'password login: "username" and "password" are required', { status: 400 });
  }

  const returnTo = safeReturnTo(requestedReturnTo ?? config.baseURL, config.baseURL);
  const appState = config.getLoginState(req, { returnTo });
  if (typeof appState !== 'object' || appState === null) {
    throw new OidcError('ERR_BAD_REQUEST', 'getLoginState must return an object', { status: 500 });
  }
  appState.returnTo = safeReturnTo(appState.returnTo ?? returnTo, config.baseURL);

  const { realm, audience, scope } = config.passwordLogin;
  const defaultAudience = config.authorizationParams.audience;
  const resolvedAudience = audience ?? (typeof defaultAudience === 'string' ? defaultAudience : undefined);
  // The session is built on the ID token: `openid` is always asked for.
  const scopes = (scope ?? config.authorizationParams.scope).split(' ').filter(Boolean);
  if (!scopes.includes('openid')) scopes.unshift('openid');

  await throttle(rt, req, { ip: clientIp(req), username, step: 'password' });
  let tokens: TokenSet;
  try {
    tokens = await rt.client.loginWithPassword(
      {
        username,
        password,
        scope: scopes.join(' '),
        ...(resolvedAudience === undefined ? {} : { audience: resolvedAudience }),
        ...(realm === undefined ? {} : { realm }),
      },
      {},
      forwardedFor(req),
    );
  } catch (err) {
    if (err instanceof MfaRequiredError && err.mfaToken.length > 0) {
      log('password login needs MFA; the login is pending');
      const pending = await pendingLogins(rt).start(res, { mfaToken: err.mfaToken, username, appState });
      throw new MfaPendingError(pending.handle, pending.expiresAt, MAX_CODE_ATTEMPTS, false, 'otp');
    }
    if (isCredentialError(err) || err instanceof MfaRequiredError) {
      log('password login refused');
      throw loginFailed(err);
    }
    throw opFailure(err);
  }

  await completeLogin(rt, req, res, tokens, appState);
  log('password login complete');
  res.redirect(303, appState.returnTo as string);
}

/** OP answers to `/mfa/challenge` after which the pending login cannot go on. */
const CHALLENGE_ENDS_LOGIN = new Set(['invalid_grant', 'expired_token', 'too_many_attempts']);

/**
 * The second POST of an MFA login: `pendingLogin` (the handle) with either
 * `otp` (an authenticator app's code), `challenge=oob` (send a code by SMS,
 * voice or e-mail through Auth0's `/mfa/challenge`), or `bindingCode` (the
 * code that was sent). The handle must be this browser's (its cookie),
 * unused and unexpired. A right code completes the login into a new session;
 * a wrong one counts (`MfaPendingError` with `retry`, until
 * MAX_CODE_ATTEMPTS, then the pending login ends); an OP outage keeps the
 * pending login for another try.
 */
async function mfaStep(rt: Runtime, req: Request, res: Response, form: URLSearchParams, handle: string): Promise<void> {
  const otp = single(form, 'otp', MAX_CODE);
  const bindingCode = single(form, 'bindingCode', MAX_CODE);
  const challenge = single(form, 'challenge', 16);
  const given = [otp, bindingCode, challenge].filter((value) => value !== undefined && value.length > 0);
  if (given.length !== 1 || (challenge !== undefined && challenge !== 'oob')) {
    throw new OidcError('ERR_BAD_REQUEST', 'password login: "pendingLogin" goes with one of "otp", "bindingCode" or "challenge=oob"', { status: 400 });
  }
  const pending = pendingLogins(rt);
  const login = await pending.take(req, handle);

  try {
    await throttle(rt, req, { ip: clientIp(req), username: login.username, step: 'mfa' });
    if (bindingCode !== undefined && login.oobCode === undefined) {
      throw new OidcError('ERR_BAD_REQUEST', 'password login: no code was sent for this sign-in (post "challenge=oob" first)', { status: 400 });
    }
  } catch (err) {
    await pending.putBack(handle, login);
    throw err;
  }
  if (challenge !== undefined) return sendOobCode(rt, req, pending, res, handle, login);

  let tokens: TokenSet;
  try {
    tokens =
      otp !== undefined
        ? await rt.client.loginWithOtp({ mfaToken: login.mfaToken, otp }, {}, forwardedFor(req))
        : await rt.client.loginWithOob({ mfaToken: login.mfaToken, oobCode: login.oobCode as string, bindingCode: bindingCode as string }, {}, forwardedFor(req));
  } catch (err) {
    return wrongCode(pending, res, handle, login, err);
  }
  pending.end(res, handle);
  await completeLogin(rt, req, res, tokens, login.appState);
  log('password login with MFA complete');
  res.redirect(303, safeReturnTo(login.appState.returnTo, rt.config.baseURL));
}

/** Asks the OP to send a code out of band; the answer is the pending login again, now waiting for `bindingCode`. */
async function sendOobCode(rt: Runtime, req: Request, pending: PendingLogins, res: Response, handle: string, login: PendingLogin): Promise<never> {
  let oobCode: string | undefined;
  try {
    ({ oobCode } = await rt.client.mfaChallenge({ mfaToken: login.mfaToken, challengeType: 'oob' }, forwardedFor(req)));
  } catch (err) {
    if (isCredentialError(err) && CHALLENGE_ENDS_LOGIN.has(err.error as string)) {
      pending.end(res, handle);
      throw pendingLoginInvalid(err);
    }
    await pending.putBack(handle, login);
    if (!isCredentialError(err)) throw opFailure(err);
    // e.g. `unsupported_challenge_type`: the user has no such factor; the one-time code still works.
    throw new OidcError('ERR_BAD_REQUEST', 'password login: no code can be sent for this sign-in', { status: 400, cause: err });
  }
  if (oobCode === undefined) {
    await pending.putBack(handle, login);
    throw new OidcError('ERR_INVALID_RESPONSE', 'mfa challenge: the OP sent no oob_code', { status: 502 });
  }
  log('one-time code sent out of band');
  await pending.putBack(handle, { ...login, oobCode });
  throw new MfaPendingError(handle, login.createdAt + PENDING_LOGIN_TTL, MAX_CODE_ATTEMPTS - login.attempts, false, 'oob');
}

/** What a failed code grant does to the pending login; always throws. */
async function wrongCode(pending: PendingLogins, res: Response, handle: string, login: PendingLogin, err: unknown): Promise<never> {
  if (!isCredentialError(err)) {
    // Not the user's fault (the OP is down, or misconfigured): the code was not judged; keep the login.
    await pending.putBack(handle, login);
    throw opFailure(err);
  }
  const attempts = login.attempts + 1;
  // `invalid_grant` is a wrong code; anything else (`expired_token`, `too_many_attempts`, ...) ends it.
  if (err.error !== 'invalid_grant' || attempts >= MAX_CODE_ATTEMPTS) {
    log('pending login ended (%s)', err.error === 'invalid_grant' ? 'too many wrong codes' : 'the OP ended it');
    pending.end(res, handle);
    throw pendingLoginInvalid(err);
  }
  log('wrong one-time code (%d of %d)', attempts, MAX_CODE_ATTEMPTS);
  await pending.putBack(handle, { ...login, attempts });
  throw new MfaPendingError(handle, login.createdAt + PENDING_LOGIN_TTL, MAX_CODE_ATTEMPTS - attempts, true, login.oobCode === undefined ? 'otp' : 'oob');
}
