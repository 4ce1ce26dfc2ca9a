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
  const jar = core.transport.requestObject;
  if (jar !== undefined) {
    // JAR (RFC 9101): the parameters travel inside a request object signed with the client's key;
    // the URL (or the pushed request) then carries only client_id and request.
    const key = await jar.key.privateKey();
    const signed = await oidc.buildAuthorizationUrlWithJAR(config, params, jar.kid === undefined ? { key: key.key } : { key: key.key, kid: jar.kid });
    if (!pushed) return signed.href;
    params = Object.fromEntries(signed.searchParams);
  }
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
