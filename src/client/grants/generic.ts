import type { ClientCore } from '../core.js';
import { grant } from '../grant.js';
import type { IdTokenValidationOptions } from '../id-token.js';
import { cleanExtra, requireString, type RequestOptions } from '../requests.js';
import type { TokenSet } from '../token-set.js';

/** Any OAuth 2.0 grant; `body` may not set `grant_type` or the client's credentials. */
export async function loginWithGrant(
  core: ClientCore,
  grantType: string,
  body: Record<string, string>,
  validation?: IdTokenValidationOptions,
  request?: RequestOptions,
): Promise<TokenSet> {
  requireString(grantType, 'loginWithGrant: "grantType"');
  return grant(core, grantType, cleanExtra(body), {}, validation, request);
}
