import type { Request, Response } from 'express';
import { acrSatisfied, stepUpFailed } from '../assurance/index.js';
import type { TokenSet } from '../client/token-set.js';
import { paramStrings } from '../config/params.js';
import { debug } from '../debug.js';
import { loggableCode, OidcError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { completeLogin } from './complete-login.js';
import { forgetQuery, readForm, single } from './form.js';
import { safeReturnTo } from './return-to.js';
import { clearSilentLoginMark } from './silent-login-mark.js';

const log = debug('callback');

export interface CallbackOptions {
  /**
   * The redirect URI the code was issued for, an absolute URL. Default: the one the login sent
   * (`authorizationParams.redirect_uri`, else `baseURL` + `routes.callback`).
   */
  redirectUri?: string;
  /**
   * Extra parameters for this code exchange, over the configured
   * `tokenEndpointParams`. Numbers and booleans are sent as text; null or
   * undefined leaves a parameter out.
   */
  tokenEndpointParams?: Record<string, unknown>;
}

declare module 'express-session' {
  interface SessionData {
    /** The last finished login: a reloaded callback (the Back button) goes on to its `returnTo`. */
    oidcFinishedLogin?: { state: string; returnTo: string };
  }
}

/**
 * The callback of a login this session already finished (its transaction cookie is used up):
 * where that login was going, or undefined.
 */
function finishedLogin(req: Request, state: string, err: unknown): string | undefined {
  // A browser with no session cookie has no req.session (sessions are loaded on demand).
  const finished = req.session?.oidcFinishedLogin;
  // A cookie that is there but invalid (expired, forged) is refused, never followed.
  const used = err instanceof OidcError && (err.code === 'ERR_TRANSACTION_MISSING' || err.code === 'ERR_STATE_MISMATCH');
  return used && req.session?.oidc !== undefined && finished?.state === state ? finished.returnTo : undefined;
}

/**
 * A failed code exchange that is not the user's doing (a wrong client secret, a refused client,
 * an OP failure) is the app's misconfiguration or the OP's fault: a non-exposed 502, with every
 * detail kept for the developer, the OP's answer as `cause`. `invalid_grant` (a used or expired
 * code) stays a 400.
 */
function exchangeFailed(err: unknown): unknown {
  if (!(err instanceof OidcError) || err.code !== 'ERR_OP_ERROR' || err.error === 'invalid_grant') return err;
  // OidcError leaves out the fields that are undefined.
  return new OidcError('ERR_OP_ERROR', err.message, { status: 502, cause: err, error: err.error, errorDescription: err.errorDescription, opStatus: err.opStatus, url: err.url });
}

function invalid(message: string): OidcError {
  return new OidcError('ERR_CALLBACK_INVALID', message);
}

/**
 * Finishes a login: checks `state` against the transaction, the response's
 * `iss`, exchanges the code with the PKCE verifier, validates the ID token,
 * and creates the session. Any failure throws before anything is stored.
 */
export async function callback(rt: Runtime, req: Request, res: Response, options: CallbackOptions = {}): Promise<void> {
  const { config } = rt;
  // App code's mistakes fail before the request is read.
  const tokenEndpointParams = options.tokenEndpointParams === undefined ? undefined : paramStrings(options.tokenEndpointParams, 'callback: "tokenEndpointParams"');
  if (options.redirectUri !== undefined && !(typeof options.redirectUri === 'string' && URL.canParse(options.redirectUri))) {
    throw new OidcError('ERR_CONFIG_INVALID', 'callback: "redirectUri" must be an absolute URL (the one the login sent)', { status: 500 });
  }
  const params = req.method === 'POST' ? await readForm(req) : new URL(req.originalUrl, 'http://callback.invalid').searchParams;
  // The code is read: the router's later debug lines (an error handler's) must not print it.
  forgetQuery(req);
  const state = single(params, 'state', 256);
  const code = single(params, 'code', 4_096);
  const iss = single(params, 'iss', 2_048);
  const error = single(params, 'error', 256);
  const errorDescription = single(params, 'error_description', 2_048);
  if (state === undefined || state.length === 0) throw invalid('the callback has no state');

  let tx;
  try {
    tx = rt.transactions.take(req, res, state);
  } catch (err) {
    const goingTo = finishedLogin(req, state, err);
    if (goingTo === undefined) throw err;
    log('callback of a finished login reloaded; the session is active');
    return res.redirect(goingTo);
  }
  const returnTo = safeReturnTo(tx.appState.returnTo, config.baseURL);

  if (error !== undefined) {
    if (tx.silent) {
      // A silent login that did not work: back to the page, anonymous, no error page.
      log('silent login declined by the OP');
      return res.redirect(returnTo);
    }
    const description = OidcError.describe(errorDescription);
    // The callback URL is attacker-controlled: only a plain error code is kept.
    const opError = OidcError.errorCode(error);
    // The message is fixed: the callback's parameters are whatever the browser was sent with.
    throw new OidcError('ERR_OP_ERROR', 'login failed: the OP answered with an error (see err.error)', { error: opError, errorDescription: description });
  }

  const metadata = await rt.client.serverMetadata();
  if (metadata.authorization_response_iss_parameter_supported === true ? iss !== metadata.issuer : iss !== undefined && iss !== metadata.issuer) {
    throw new OidcError('ERR_ISSUER_MISMATCH', 'the authorization response comes from another issuer');
  }
  if (code === undefined || code.length === 0) throw invalid('the callback has no code');

  let tokens: TokenSet;
  try {
    // exchangeCode reads an undefined check as an absent one.
    tokens = await rt.client.exchangeCode(params, {
      redirectUri: options.redirectUri ?? tx.redirectUri ?? defaultRedirectUri(rt),
      tokenEndpointParams,
      state: tx.state,
      codeVerifier: tx.codeVerifier,
      nonce: tx.nonce,
      maxAge: tx.maxAge,
      organization: tx.organization,
    });
  } catch (err) {
    if (!tx.silent) {
      log.warn('code exchange failed (%s)', loggableCode(err));
      throw exchangeFailed(err);
    }
    // The user never asked to log in: a failed silent attempt leaves them anonymous, not on an error page.
    log('silent login failed at the code exchange (%s)', loggableCode(err));
    return res.redirect(returnTo);
  }
  log('code exchanged; ID token valid');
  // A step-up login the OP answered without the asked acr grants nothing (and sends no one round again).
  if (tx.requiredAcr !== undefined && !acrSatisfied(tokens.idTokenClaims ?? {}, tx.requiredAcr)) throw stepUpFailed();
  await completeLogin(rt, req, res, tokens, tx.appState);
  clearSilentLoginMark(req, res, config);
  req.session.oidcFinishedLogin = { state: tx.state, returnTo };
  log('login complete');
  res.redirect(returnTo);
}

/** `baseURL` + `routes.callback`; with `routes.callback: false` the app says which one it uses. */
export function defaultRedirectUri(rt: Runtime): string {
  const { baseURL, routes } = rt.config;
  if (routes.callback === false) {
    throw new OidcError(
      'ERR_CONFIG_INVALID',
      'routes.callback is false: pass authorizationParams.redirect_uri (in auth() or res.oidc.login()) and the same redirectUri to res.oidc.callback()',
      { status: 500 },
    );
  }
  return baseURL + routes.callback;
}
