import type { ClientCore } from '../core.js';
import { grant } from '../grant.js';
import type { IdTokenValidationOptions } from '../id-token.js';
import { cleanExtra, requireString, type RequestOptions } from '../requests.js';
import type { TokenSet } from '../token-set.js';
import type { LoginWithOtpRequest } from './requests.js';

export const MFA_OTP_GRANT = 'http://auth0.com/oauth/grant-type/mfa-otp';

/** Finishes an `mfa_required` login with the code of the user's authenticator app. */
export async function loginWithOtp(core: ClientCore, body: LoginWithOtpRequest, validation?: IdTokenValidationOptions, request?: RequestOptions): Promise<TokenSet> {
  requireString(body.mfaToken, 'loginWithOtp: "mfaToken"');
  requireString(body.otp, 'loginWithOtp: "otp"');
  return grant(core, MFA_OTP_GRANT, { ...cleanExtra(body.extra), mfa_token: body.mfaToken, otp: body.otp }, body, validation, request);
}
