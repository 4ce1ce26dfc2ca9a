export { mfaChallenge } from './challenge.js';
export { loginWithOtp, MFA_OTP_GRANT } from './otp.js';
export { loginWithOob, MFA_OOB_GRANT } from './oob.js';
export { loginWithRecoveryCode, MFA_RECOVERY_CODE_GRANT, type RecoveryCodeTokenSet } from './recovery-code.js';
export type * from './requests.js';
