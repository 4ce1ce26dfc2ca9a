import type { ClientOverrides } from '../requests.js';

/** Starts a second factor for an `mfa_token` (Auth0's `/mfa/challenge`). */
export interface MfaChallengeRequest extends ClientOverrides {
  /** The `mfa_token` of the `mfa_required` answer (`MfaRequiredError.mfaToken`). */
  mfaToken: string;
  /** `otp`, `oob`, or both space-separated (`'otp oob'`): the factor types the app can handle. */
  challengeType?: string;
  /** The authenticator to challenge (from Auth0's `/mfa/authenticators`); default: the user's default one. */
  authenticatorId?: string;
}

/** What `/mfa/challenge` answered. */
export interface MfaChallengeResponse {
  /** `otp` (ask the user for the code of their authenticator app) or `oob` (a code was sent, or a push). */
  challengeType: string;
  /** For `oob`: pass it to `loginWithOob`. */
  oobCode?: string;
  /** For `oob`: `prompt` when the user must type the code they received (`bindingCode`). */
  bindingMethod?: string;
}

/** A one-time code from an authenticator app (grant `http://auth0.com/oauth/grant-type/mfa-otp`). */
export interface LoginWithOtpRequest extends ClientOverrides {
  mfaToken: string;
  otp: string;
}

/** An out-of-band challenge (SMS, voice, e-mail, push; grant `http://auth0.com/oauth/grant-type/mfa-oob`). */
export interface LoginWithOobRequest extends ClientOverrides {
  mfaToken: string;
  /** `oobCode` of the `mfaChallenge` answer. */
  oobCode: string;
  /** The code the user received, when the challenge's `bindingMethod` is `prompt`; none for a push. */
  bindingCode?: string;
}

/** A recovery code (grant `http://auth0.com/oauth/grant-type/mfa-recovery-code`). */
export interface LoginWithRecoveryCodeRequest extends ClientOverrides {
  mfaToken: string;
  recoveryCode: string;
}
