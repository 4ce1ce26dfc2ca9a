import type { Request, Response } from 'express';
import * as oidc from 'openid-client';
import type { AuthorizationParams, LoginOptions } from '../config/types.js';
import { debug } from '../debug.js';
import { OidcError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { nowSeconds } from '../session/data.js';
import type { Transaction } from '../transaction/index.js';
import { defaultRedirectUri } from './callback.js';
import { safeReturnTo } from './return-to.js';

const log = debug('login');

/** Parameters the library sets itself; callers cannot replace them (`redirect_uri` is taken from them below, checked). */
const OWN_PARAMS = new Set(['state', 'nonce', 'code_challenge', 'code_challenge_method', 'client_id', 'redirect_uri', 'request_uri', 'request']);

function toParams(source: AuthorizationParams): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [key, value] of Object.entries(source)) {
    if (value === undefined || value === null || OWN_PARAMS.has(key)) continue;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new OidcError('ERR_BAD_REQUEST', `authorization parameter "${key}" must be a string or a number`, { status: 500 });
    }
    params[key] = String(value);
  }
  return params;
}

/** What a step-up login must prove when it comes back (not settable through `res.oidc.login`). */
export interface StepUpLogin {
  /** The ID token's `acr` (or Auth0's `amr` form) must be one of these. */
  requiredAcr?: readonly string[];
}

/**
 * Starts a login: authorization code flow with PKCE (S256), `state` and
 * `nonce`, remembered in a signed transaction cookie; through PAR when
 * configured. Redirects the browser to the OP.
 */
export async function login(rt: Runtime, req: Request, res: Response, options: LoginOptions = {}, stepUp: StepUpLogin = {}): Promise<void> {
  const { config } = rt;
  const merged: AuthorizationParams = { ...config.authorizationParams, ...options.authorizationParams };
  if (merged.response_type !== 'code') {
    throw new OidcError('ERR_BAD_REQUEST', "authorizationParams.response_type must be 'code'", { status: 500 });
  }
  if (typeof merged.scope !== 'string' || !merged.scope.split(' ').includes('openid')) {
    throw new OidcError('ERR_BAD_REQUEST', "authorizationParams.scope must include 'openid'", { status: 500 });
  }
  const params = toParams(merged);
  const returnTo = safeReturnTo(options.returnTo ?? config.baseURL, config.baseURL);
  const appState = config.getLoginState(req, { ...options, returnTo });
  if (typeof appState !== 'object' || appState === null) {
    throw new OidcError('ERR_BAD_REQUEST', 'getLoginState must return an object', { status: 500 });
  }
  appState.returnTo = safeReturnTo(appState.returnTo ?? returnTo, config.baseURL);

  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const redirectUri = chosenRedirectUri(merged.redirect_uri);
  params.redirect_uri = redirectUri ?? defaultRedirectUri(rt);
  params.state = state;
  params.nonce = nonce;
  params.code_challenge = await oidc.calculatePKCECodeChallenge(codeVerifier);
  params.code_challenge_method = 'S256';

  const tx: Transaction = { state, nonce, codeVerifier, appState, createdAt: nowSeconds() };
  if (params.max_age !== undefined) {
    const maxAge = Number(params.max_age);
    if (!Number.isInteger(maxAge) || maxAge < 0) throw new OidcError('ERR_BAD_REQUEST', 'max_age must be a whole number of seconds', { status: 500 });
    tx.maxAge = maxAge;
  }
  if (params.organization !== undefined) tx.organization = params.organization;
  if (params.response_mode !== undefined) tx.responseMode = params.response_mode;
  if (options.silent === true) tx.silent = true;
  if (redirectUri !== undefined) tx.redirectUri = redirectUri;
  if (stepUp.requiredAcr !== undefined) tx.requiredAcr = [...stepUp.requiredAcr];

  const url = await rt.client.authorizationUrl(params, config.pushedAuthorizationRequests);
  // The cookie is written only once the OP accepted the request (PAR), so failures leave nothing behind.
  rt.transactions.save(req, res, tx);
  log('redirecting to the OP%s', config.pushedAuthorizationRequests ? ' (PAR)' : '');
  res.redirect(url);
}

/**
 * `authorizationParams.redirect_uri`, when the app sets one (an app serving
 * several domains, or mounting its own callback route): an absolute http(s)
 * URL, which the OP checks against the client's registered ones.
 */
function chosenRedirectUri(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new OidcError('ERR_CONFIG_INVALID', 'authorizationParams.redirect_uri must be an absolute http(s) URL', { status: 500 });
  }
  return value as string;
}
