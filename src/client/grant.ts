import * as oidc from 'openid-client';
import { OidcError, type ErrorCode } from '../errors.js';
import { debug } from '../debug.js';
import type { ServerState } from './discovery.js';
import type { ClientCore } from './core.js';
import { abortedError, toOidcError } from './errors.js';
import type { IdTokenClaims } from './id-token.js';
import type { ClientOverrides, RequestOptions, SessionBoundValidation } from './requests.js';
import { toTokenSet, type TokenEndpointResponse, type TokenSet } from './token-set.js';
import { checkIdToken } from './token-validation.js';

const log = debug('client');

export const PASSWORD_REALM_GRANT = 'http://auth0.com/oauth/grant-type/password-realm';

/** What went wrong, preferring the caller's abort over the network error it caused. */
export function failure(err: unknown, what: string, signal: AbortSignal | undefined, invalidCode?: ErrorCode): OidcError {
  const answered = err instanceof OidcError || err instanceof oidc.ResponseBodyError;
  if (signal?.aborted && !answered) return abortedError(signal, what);
  return toOidcError(err, what, invalidCode);
}

/**
 * Sends a token endpoint grant by `client` and validates what comes back;
 * `extraFields` may read fields of the answer a `TokenSet` has no place for.
 */
export async function grant(
  core: ClientCore,
  grantType: string,
  params: Record<string, string>,
  client: ClientOverrides,
  validation: SessionBoundValidation | undefined,
  request: RequestOptions | undefined,
  extraFields?: (response: Record<string, unknown>) => void,
): Promise<TokenSet> {
  const { response, server } = await sendGrant(core, grantType, params, client, request);
  extraFields?.(response as unknown as Record<string, unknown>);
  // A refreshed ID token may repeat the nonce of the login it continues (OIDC Core 12.2).
  const checks = grantType === 'refresh_token' ? { ...validation, refreshed: true } : validation;
  return finish(core, response, server, client.clientID ?? core.clientID, checks);
}

/** Sends a token endpoint grant by `client`; the response is not validated yet (see `finish`). */
export async function sendGrant(
  core: ClientCore,
  grantType: string,
  params: Record<string, string>,
  client: ClientOverrides,
  request: RequestOptions | undefined,
): Promise<{ response: TokenEndpointResponse & Record<string, unknown>; server: ServerState }> {
  const { config, server } = await core.configuration(client, request);
  let response: TokenEndpointResponse & Record<string, unknown>;
  try {
    response = await oidc.genericGrantRequest(config, grantType, { ...core.tokenEndpointParams, ...params }, await core.dpopOptions(config));
  } catch (err) {
    throw failure(err, `${grantName(grantType)} grant`, request?.signal, idTokenCheckFailed(err) ? 'ERR_ID_TOKEN_INVALID' : 'ERR_INVALID_RESPONSE');
  }
  log('%s grant succeeded', grantName(grantType));
  return { response, server };
}

/** Checks a token endpoint response and fully validates its ID token, if any. */
export async function finish(
  core: ClientCore,
  response: TokenEndpointResponse,
  server: ServerState,
  clientID: string,
  validation: SessionBoundValidation & { refreshed?: boolean } = {},
): Promise<TokenSet> {
  if (typeof response.access_token !== 'string' || typeof response.token_type !== 'string') {
    throw new OidcError('ERR_INVALID_RESPONSE', 'token endpoint: the response has no access_token or token_type', { status: 502 });
  }
  let claims: IdTokenClaims | undefined;
  if (typeof response.id_token === 'string') {
    claims = await checkIdToken(core, response.id_token, server, clientID, validation);
  } else if (validation.nonce !== undefined) {
    throw new OidcError('ERR_ID_TOKEN_INVALID', 'ID token invalid: the token endpoint returned none', { status: 400 });
  }
  return toTokenSet(response, claims);
}

/** Short names of Auth0's and RFC 8693's long grant URIs, for messages and logs. */
const GRANT_NAMES: Record<string, string> = {
  [PASSWORD_REALM_GRANT]: 'password-realm',
  'urn:ietf:params:oauth:grant-type:token-exchange': 'token-exchange',
  'urn:auth0:params:oauth:grant-type:token-exchange:federated-connection-access-token': 'federated-connection-access-token',
};

const AUTH0_GRANT_PREFIX = 'http://auth0.com/oauth/grant-type/';

/** Names a grant for messages and logs. */
export function grantName(grantType: string): string {
  const named = GRANT_NAMES[grantType];
  if (named !== undefined) return named;
  return grantType.startsWith(AUTH0_GRANT_PREFIX) ? grantType.slice(AUTH0_GRANT_PREFIX.length) : grantType;
}

/**
 * openid-client's own ID token checks (nonce, alg, sub, auth_time...) failed. It often wraps the
 * failed check in a generic "invalid response encountered", so the causes are read too.
 */
export function idTokenCheckFailed(err: unknown): boolean {
  let e = err as { message?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; e !== undefined && e !== null && depth < 3; depth += 1) {
    if (typeof e.message === 'string' && /ID Token|JWT|"id_token"/.test(e.message)) return true;
    e = e.cause as typeof e;
  }
  return false;
}
