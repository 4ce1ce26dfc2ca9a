import type { ClientCore } from '../core.js';
import { grant } from '../grant.js';
import type { IdTokenValidationOptions } from '../id-token.js';
import { cleanExtra, defined, requireString, type RequestOptions } from '../requests.js';
import type { TokenSet } from '../token-set.js';
import type { LoginWithOobRequest } from './requests.js';

export const MFA_OOB_GRANT = 'http://auth0.com/oauth/grant-type/mfa-oob';

/**
 * Finishes an `mfa_required` login with an out-of-band challenge started by
 * `mfaChallenge`. Until the user answers a push, the OP says
 * `authorization_pending` (`ERR_OP_ERROR` with that `error`): call again.
 */
export async function loginWithOob(core: ClientCore, body: LoginWithOobRequest, validation?: IdTokenValidationOptions, request?: RequestOptions): Promise<TokenSet> {
  requireString(body.mfaToken, 'loginWithOob: "mfaToken"');
  requireString(body.oobCode, 'loginWithOob: "oobCode"');
  if (body.bindingCode !== undefined) requireString(body.bindingCode, 'loginWithOob: "bindingCode"');
  const params = defined({ mfa_token: body.mfaToken, oob_code: body.oobCode, binding_code: body.bindingCode });
  return grant(core, MFA_OOB_GRANT, { ...cleanExtra(body.extra), ...params }, body, validation, request);
}
