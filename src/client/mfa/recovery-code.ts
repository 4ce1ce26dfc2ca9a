import type { ClientCore } from '../core.js';
import { grant } from '../grant.js';
import type { IdTokenValidationOptions } from '../id-token.js';
import { cleanExtra, requireString, type RequestOptions } from '../requests.js';
import { hideFields } from '../../printing.js';
import type { TokenSet } from '../token-set.js';
import type { LoginWithRecoveryCodeRequest } from './requests.js';

export const MFA_RECOVERY_CODE_GRANT = 'http://auth0.com/oauth/grant-type/mfa-recovery-code';

/** The tokens, and the new recovery code that replaces the one just used (show it to the user once). */
export type RecoveryCodeTokenSet = TokenSet & { recoveryCode?: string };

/** Finishes an `mfa_required` login with a recovery code; the OP answers with a new one. */
export async function loginWithRecoveryCode(
  core: ClientCore,
  body: LoginWithRecoveryCodeRequest,
  validation?: IdTokenValidationOptions,
  request?: RequestOptions,
): Promise<RecoveryCodeTokenSet> {
  requireString(body.mfaToken, 'loginWithRecoveryCode: "mfaToken"');
  requireString(body.recoveryCode, 'loginWithRecoveryCode: "recoveryCode"');
  let recoveryCode: string | undefined;
  const tokens = await grant(
    core,
    MFA_RECOVERY_CODE_GRANT,
    { ...cleanExtra(body.extra), mfa_token: body.mfaToken, recovery_code: body.recoveryCode },
    body,
    validation,
    request,
    (response) => {
      // The token set has no field for it: read Auth0's `recovery_code` from the answer itself.
      if (typeof response.recovery_code === 'string') recoveryCode = response.recovery_code;
    },
  );
  // A copy loses the token set's printing hooks: its tokens and the new code are hidden again.
  return recoveryCode === undefined ? tokens : hideFields({ ...tokens, recoveryCode }, 'TokenSet', ['accessToken', 'idToken', 'refreshToken', 'recoveryCode']);
}
