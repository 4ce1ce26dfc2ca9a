import * as oidc from 'openid-client';
import { OidcError } from '../errors.js';
import { debug } from '../debug.js';
import type { ClientCore } from './core.js';
import { failure } from './grant.js';
import {
  cleanExtra,
  defined,
  type ClientOverrides,
  type PushedAuthorizationRequest,
  type PushedAuthorizationResponse,
  type RequestOptions,
} from './requests.js';

const log = debug('client');

/** Pushed Authorization Request (RFC 9126): returns the `request_uri` for `/authorize`. */
export async function pushedAuthorization(
  core: ClientCore,
  body: PushedAuthorizationRequest,
  request?: RequestOptions,
): Promise<PushedAuthorizationResponse> {
  const params = defined({
    response_type: body.responseType ?? 'code',
    redirect_uri: body.redirectUri,
    scope: body.scope,
    audience: body.audience,
    nonce: body.nonce,
    response_mode: body.responseMode,
    organization: body.organization,
    invitation: body.invitation,
    connection: body.connection,
    code_challenge: body.codeChallenge,
    code_challenge_method: body.codeChallenge === undefined ? undefined : 'S256',
  });
  return push(core, { ...cleanExtra(body.extra), ...params }, body, request);
}

/** Pushes authorization request parameters as `client`; returns the `request_uri` and its lifetime. */
export async function push(
  core: ClientCore,
  params: Record<string, string>,
  client: ClientOverrides,
  request?: RequestOptions,
): Promise<PushedAuthorizationResponse> {
  let expiresIn = 0;
  const { config, server } = await core.configuration(client, request, async (url, response) => {
    // openid-client returns only the URL; read expires_in from the PAR response itself.
    if (url === server.metadata.pushed_authorization_request_endpoint && response.ok) {
      const body = (await response.clone().json()) as { expires_in?: unknown };
      if (typeof body.expires_in === 'number') expiresIn = body.expires_in;
    }
  });
  if (!server.metadata.pushed_authorization_request_endpoint) {
    throw new OidcError('ERR_PAR_UNSUPPORTED', 'the OP advertises no pushed_authorization_request_endpoint', { status: 500 });
  }
  let url: URL;
  try {
    url = await oidc.buildAuthorizationUrlWithPAR(config, params, await core.dpopOptions(config));
  } catch (err) {
    throw failure(err, 'pushed authorization request', request?.signal);
  }
  const requestUri = url.searchParams.get('request_uri');
  if (!requestUri) throw new OidcError('ERR_INVALID_RESPONSE', 'pushed authorization request: no request_uri in the response', { status: 502 });
  log('pushed authorization request accepted');
  return { requestUri, expiresIn };
}
