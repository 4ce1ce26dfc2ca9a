import type { ClientCore } from '../core.js';
import { grant, PASSWORD_REALM_GRANT } from '../grant.js';
import type { IdTokenValidationOptions } from '../id-token.js';
import { cleanExtra, defined, requireString, type LoginWithPasswordRequest, type RequestOptions } from '../requests.js';
import type { TokenSet } from '../token-set.js';

/** Resource Owner Password grant, or Auth0's password-realm grant when `realm` is set. */
export async function loginWithPassword(
  core: ClientCore,
  body: LoginWithPasswordRequest,
  validation?: IdTokenValidationOptions,
  request?: RequestOptions,
): Promise<TokenSet> {
  requireString(body.username, 'loginWithPassword: "username"');
  requireString(body.password, 'loginWithPassword: "password"');
  const grantType = body.realm === undefined ? 'password' : PASSWORD_REALM_GRANT;
  const params = defined({ username: body.username, password: body.password, scope: body.scope, audience: body.audience, realm: body.realm });
  return grant(core, grantType, { ...cleanExtra(body.extra), ...params }, body, validation, request);
}
