/**
 * What a time claim that fails by more than `clockTolerance` says: how far off it is, and the
 * two ways out. Such a failure is almost always the clocks of the app's server and the OP
 * disagreeing, which is the deployment's problem, not the user's: callers answer 5xx.
 */
export function clockSkewReason(claim: string, seconds: number, tolerance: number): string {
  const direction = claim === 'exp' ? 'in the past' : 'in the future';
  return `"${claim}" is ${Math.round(seconds)} s ${direction}, beyond clockTolerance (${tolerance} s): this server's clock and the OP's differ by about that much; sync them (NTP) or raise clockTolerance`;
}

/** The HTTP status of an ID token refused for its time claims (the deployment's clock, not the user). */
export const CLOCK_SKEW_STATUS = 502;
