/**
 * The second step of the password login route: a pending MFA login finished
 * with a one-time code, or with a code sent out of band.
 */
import type { Request, Response } from 'express';
import type { TokenSet } from '../client/token-set.js';
import { debug } from '../debug.js';
import { MfaPendingError, OidcError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { completeLogin } from './complete-login.js';
import { single } from './form.js';
import { clientIp, forwardedFor, isCredentialError, opFailure, throttle } from './login-attempt.js';
import { MAX_CODE_ATTEMPTS, PENDING_LOGIN_TTL, PendingLogins, pendingLoginInvalid, type PendingLogin } from './pending-login.js';
import { safeReturnTo } from './return-to.js';

const log = debug('password-login');

const MAX_CODE = 64;

const pendingByRuntime = new WeakMap<Runtime, PendingLogins>();

/** The pending logins of an `auth()` instance, kept in its session store. */
export function pendingLogins(rt: Runtime): PendingLogins {
  let pending = pendingByRuntime.get(rt);
  if (pending === undefined) {
    if (rt.sessions.store === undefined) throw new OidcError('ERR_CONFIG_INVALID', 'password login with MFA needs a session store', { status: 500 });
    pending = new PendingLogins(rt.sessions.store, rt.config);
    pendingByRuntime.set(rt, pending);
  }
  return pending;
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
export async function mfaStep(rt: Runtime, req: Request, res: Response, form: URLSearchParams, handle: string): Promise<void> {
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
