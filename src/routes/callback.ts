import type { Request, Response } from 'express';
import type { TokenSet } from '../client/token-set.js';
import { debug } from '../debug.js';
import { OidcError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { completeLogin } from './complete-login.js';
import { readForm, single } from './form.js';
import { safeReturnTo } from './return-to.js';
import { clearSilentLoginMark } from './silent-login-mark.js';

const log = debug('callback');

export interface CallbackOptions {
  /** Override the redirect URI the code was issued for (default `baseURL` + callback route). */
  redirectUri?: string;
}

function invalid(message: string): OidcError {
  return new OidcError('ERR_CALLBACK_INVALID', message, { status: 400 });
}


/**
 * Finishes a login: checks `state` against the transaction, the response's
 * `iss`, exchanges the code with the PKCE verifier, validates the ID token,
 * and creates the session. Any failure throws before anything is stored.
 */
export async function callback(rt: Runtime, req: Request, res: Response, options: CallbackOptions = {}): Promise<void> {
  const { config } = rt;
  const params = req.method === 'POST' ? await readForm(req) : new URL(req.originalUrl ?? req.url, 'http://callback.invalid').searchParams;
  const state = single(params, 'state', 256);
  const code = single(params, 'code', 4_096);
  const iss = single(params, 'iss', 2_048);
  const error = single(params, 'error', 256);
  const errorDescription = single(params, 'error_description', 2_048);
  if (state === undefined || state.length === 0) throw invalid('the callback has no state');

  const tx = rt.transactions.take(req, res, state);
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
    throw new OidcError('ERR_OP_ERROR', `login failed: the OP answered ${opError === undefined ? 'with an unreadable error' : `"${opError}"`}`, {
      status: 400,
      ...(opError === undefined ? {} : { error: opError }),
      ...(description === undefined ? {} : { errorDescription: description }),
    });
  }

  const metadata = await rt.client.serverMetadata();
  if (metadata.authorization_response_iss_parameter_supported === true ? iss !== metadata.issuer : iss !== undefined && iss !== metadata.issuer) {
    throw new OidcError('ERR_ISSUER_MISMATCH', 'the authorization response comes from another issuer', { status: 400 });
  }
  if (code === undefined || code.length === 0) throw invalid('the callback has no code');

  let tokens: TokenSet;
  try {
    tokens = await rt.client.exchangeCode(params, {
      redirectUri: options.redirectUri ?? config.baseURL + config.routes.callback,
      state: tx.state,
      codeVerifier: tx.codeVerifier,
      nonce: tx.nonce,
      ...(tx.maxAge === undefined ? {} : { maxAge: tx.maxAge }),
      ...(tx.organization === undefined ? {} : { organization: tx.organization }),
    });
  } catch (err) {
    if (!tx.silent) {
      log.warn('code exchange failed (%s)', err instanceof OidcError ? err.code : 'an unexpected error');
      throw err;
    }
    // The user never asked to log in: a failed silent attempt leaves them anonymous, not on an error page.
    log('silent login failed at the code exchange (%s)', err instanceof OidcError ? err.code : 'error');
    return res.redirect(returnTo);
  }
  log('code exchanged; ID token valid');
  await completeLogin(rt, req, res, tokens, tx.appState);
  clearSilentLoginMark(req, res, config);
  log('login complete');
  res.redirect(returnTo);
}
