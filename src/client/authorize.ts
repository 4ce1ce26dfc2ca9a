import * as oidc from 'openid-client';
import { OidcError } from '../errors.js';
import type { ClientCore } from './core.js';
import { push } from './par.js';
import type { RequestOptions } from './requests.js';

/** The URL to send the browser to, through PAR when `pushed` is true. */
export async function authorizationUrl(
  core: ClientCore,
  params: Record<string, string>,
  pushed: boolean,
  request?: RequestOptions,
): Promise<string> {
  const { config, server } = await core.configuration({}, request);
  // Binds the authorization code to the DPoP key, so only this key can redeem it.
  if (core.dpop !== undefined) params = { ...params, dpop_jkt: await core.dpop.thumbprint() };
  if (!pushed) return oidc.buildAuthorizationUrl(config, params).href;
  if (!server.metadata.pushed_authorization_request_endpoint) {
    throw new OidcError('ERR_PAR_UNSUPPORTED', 'pushedAuthorizationRequests is on, but the OP advertises no pushed_authorization_request_endpoint', { status: 500 });
  }
  const { requestUri } = await push(core, params, {}, request);
  const url = new URL(server.metadata.authorization_endpoint as string);
  url.searchParams.set('client_id', core.clientID);
  url.searchParams.set('request_uri', requestUri);
  return url.href;
}
