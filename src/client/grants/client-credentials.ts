import { OidcError } from '../../errors.js';
import type { ClientCore } from '../core.js';
import { grant } from '../grant.js';
import type { IdTokenValidationOptions } from '../id-token.js';
import { cleanExtra, defined, requireString, type LoginWithClientCredentialsRequest, type RequestOptions } from '../requests.js';
import type { TokenSet } from '../token-set.js';

/** Client Credentials grant (machine to machine) for an API `audience`, optionally in an organization. */
export async function loginWithClientCredentials(
  core: ClientCore,
  body: LoginWithClientCredentialsRequest,
  validation?: IdTokenValidationOptions,
  request?: RequestOptions,
): Promise<TokenSet> {
  requireString(body.audience, 'loginWithClientCredentials: "audience"');
  if (core.authMethod(body.clientID ?? core.clientID, core.secretFor(body)) === 'none') {
    // The grant is the client's own identity: without client authentication there is nothing to grant.
    throw new OidcError('ERR_BAD_REQUEST', 'loginWithClientCredentials: "clientSecret" is required', { status: 400 });
  }
  const params = defined({ audience: body.audience, organization: body.organization });
  return grant(core, 'client_credentials', { ...cleanExtra(body.extra), ...params }, body, validation, request);
}
