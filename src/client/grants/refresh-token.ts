import type { ClientCore } from '../core.js';
import { grant } from '../grant.js';
import { cleanExtra, defined, requireString, type RefreshTokenRequest, type RequestOptions, type SessionBoundValidation } from '../requests.js';
import type { TokenSet } from '../token-set.js';

/** Refresh grant; `scope` may ask for less than was granted. */
export async function refreshToken(
  core: ClientCore,
  body: RefreshTokenRequest,
  validation?: SessionBoundValidation,
  request?: RequestOptions,
): Promise<TokenSet> {
  requireString(body.refreshToken, 'refreshToken: "refreshToken"');
  const params = defined({ refresh_token: body.refreshToken, scope: body.scope });
  return grant(core, 'refresh_token', { ...cleanExtra(body.extra), ...params }, body, validation, request);
}
