import * as oidc from 'openid-client';
import { fetchProtectedResource as fetchWithToken, type ProtectedResourceInit, type ProtectedResourceToken } from '../dpop/protected-resource.js';
import type { ClientCore } from './core.js';

/** Calls an API with an access token, with a DPoP proof when the token is DPoP-bound. */
export async function fetchProtectedResource(
  core: ClientCore,
  accessToken: ProtectedResourceToken,
  url: string | URL,
  init?: ProtectedResourceInit,
): Promise<Response> {
  // Talking to an API needs nothing from discovery: a bare configuration carries the fetch settings.
  const makeConfig = (fetcher: oidc.CustomFetch) => {
    const config = new oidc.Configuration({ issuer: core.issuerBaseURL }, core.clientID);
    config[oidc.customFetch] = fetcher;
    return config;
  };
  return fetchWithToken(makeConfig, core.dpop, accessToken, url, init);
}
