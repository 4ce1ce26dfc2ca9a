import type { Request, Response } from 'express';
import type { TokenSet } from '../client/token-set.js';
import { debug } from '../debug.js';
import { MfaPendingError, MfaRequiredError, OidcError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { completeLogin } from './complete-login.js';
import { readForm, single } from './form.js';
import { clientIp, forwardedFor, isCredentialError, opFailure, throttle } from './login-attempt.js';
import { mfaStep, pendingLogins } from './mfa-step.js';
import { MAX_CODE_ATTEMPTS } from './pending-login.js';
import { safeReturnTo } from './return-to.js';

const log = debug('password-login');

const MAX_USERNAME = 512;
const MAX_PASSWORD = 1_024;
const MAX_RETURN_TO = 2_048;
const MAX_HANDLE = 64;

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
