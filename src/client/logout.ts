import * as oidc from 'openid-client';
import { OidcError } from '../errors.js';
import type { ClientCore } from './core.js';

/** The OP logout URL, or Auth0's `/v2/logout` when the OP has no end-session endpoint. */
export async function endSessionUrl(
  core: ClientCore,
  params: { idTokenHint?: string; postLogoutRedirectUri: string; extra?: Record<string, string> },
): Promise<string> {
  const { config, server } = await core.configuration({});
  if (server.metadata.end_session_endpoint) {
    return oidc.buildEndSessionUrl(config, {
      ...params.extra,
      post_logout_redirect_uri: params.postLogoutRedirectUri,
      ...(params.idTokenHint === undefined ? {} : { id_token_hint: params.idTokenHint }),
    }).href;
  }
  if (/\.auth0(app)?\.com$/.test(new URL(core.issuerBaseURL).hostname)) {
    const url = new URL('/v2/logout', core.issuerBaseURL);
    for (const [key, value] of Object.entries(params.extra ?? {})) url.searchParams.set(key, value);
    url.searchParams.set('client_id', core.clientID);
    url.searchParams.set('returnTo', params.postLogoutRedirectUri);
    return url.href;
  }
  throw new OidcError('ERR_LOGOUT_UNSUPPORTED', 'idpLogout is on, but the OP advertises no end_session_endpoint', { status: 500 });
}
