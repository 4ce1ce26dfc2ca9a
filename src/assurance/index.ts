/**
 * Authentication assurance of a signed-in user (RFC 9470 step-up): which
 * `acr` an ID token proves, how recent its `auth_time` is, and the errors a
 * route or a login answers when they fall short. Pure functions of the ID
 * token's claims: no I/O, no Express.
 */
import { OidcError } from '../errors.js';

/**
 * The PAPE multi-factor policy. Auth0 answers a request for it with `amr`
 * containing `mfa` (and not always an `acr`), so that form satisfies it too.
 */
export const PAPE_MULTI_FACTOR = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';

/** What a route asks of the user's authentication. */
export interface AssuranceRequirement {
  /** Any one of these `acr` values satisfies the route. */
  readonly acrValues?: readonly string[];
  /** Seconds since `auth_time` the authentication may be old. */
  readonly maxAge?: number;
}

/** Which parts of a requirement a set of claims does not meet. */
export interface UnmetAssurance {
  acr: boolean;
  maxAge: boolean;
}

/**
 * Characters of one `acr` value: printable ASCII without space (the
 * separator of `acr_values`), `"` and `\`, so it can go into a URL and a
 * quoted `WWW-Authenticate` parameter unchanged.
 */
const ACR_VALUE = /^[\x21\x23-\x5b\x5d-\x7e]{1,512}$/;

/**
 * `acrValues` as given by the app (a space-separated string or an array),
 * as a list; throws `ERR_CONFIG_INVALID` naming `what` when it is not one.
 */
export function parseAcrValues(value: unknown, what: string): string[] {
  const list = typeof value === 'string' ? value.split(' ').filter(Boolean) : Array.isArray(value) ? [...(value as unknown[])] : undefined;
  if (list === undefined || list.length === 0 || !list.every((v) => typeof v === 'string' && ACR_VALUE.test(v))) {
    throw new OidcError('ERR_CONFIG_INVALID', `${what} must be a non-empty string or array of acr values (printable, without spaces or quotes)`, { status: 500 });
  }
  return [...new Set(list as string[])];
}

/** `maxAge` as given by the app; throws `ERR_CONFIG_INVALID` naming `what` unless it is whole seconds, 0 or more. */
export function parseMaxAge(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new OidcError('ERR_CONFIG_INVALID', `${what} must be a whole number of seconds (0 or more)`, { status: 500 });
  }
  return value;
}

/**
 * Whether the claims prove one of `acrValues`: the `acr` claim is one of
 * them, or `amr` contains `mfa` and the PAPE multi-factor policy is one of them.
 */
export function acrSatisfied(claims: Record<string, unknown>, acrValues: readonly string[]): boolean {
  if (typeof claims.acr === 'string' && acrValues.includes(claims.acr)) return true;
  return acrValues.includes(PAPE_MULTI_FACTOR) && Array.isArray(claims.amr) && claims.amr.includes('mfa');
}

/** Whether `auth_time` is at most `maxAge` seconds old (with the clock tolerance of the ID token checks). */
export function authTimeSatisfied(claims: Record<string, unknown>, maxAge: number, now: number, tolerance: number): boolean {
  return typeof claims.auth_time === 'number' && claims.auth_time + maxAge >= now - tolerance;
}

/** What the claims lack for the requirement, or undefined when they meet it. */
export function unmetAssurance(
  claims: Record<string, unknown>,
  requirement: AssuranceRequirement,
  now: number,
  tolerance: number,
): UnmetAssurance | undefined {
  const acr = requirement.acrValues !== undefined && !acrSatisfied(claims, requirement.acrValues);
  const maxAge = requirement.maxAge !== undefined && !authTimeSatisfied(claims, requirement.maxAge, now, tolerance);
  return acr || maxAge ? { acr, maxAge } : undefined;
}

/**
 * The RFC 9470 challenge for an API client whose session lacks the route's
 * assurance: `Bearer error="insufficient_user_authentication"` with the
 * `acr_values` and `max_age` it must log in with.
 */
export function stepUpChallenge(requirement: AssuranceRequirement, unmet: UnmetAssurance): string {
  const description = unmet.acr ? 'A different authentication level is required' : 'More recent authentication is required';
  let challenge = `Bearer error="insufficient_user_authentication", error_description="${description}"`;
  if (requirement.acrValues !== undefined) challenge += `, acr_values="${requirement.acrValues.join(' ')}"`;
  if (requirement.maxAge !== undefined) challenge += `, max_age="${requirement.maxAge}"`;
  return challenge;
}

/** 401 for a signed-in API client whose session lacks the route's assurance (send `stepUpChallenge` with it). */
export function stepUpRequired(unmet: UnmetAssurance): OidcError {
  return new OidcError('ERR_STEP_UP_REQUIRED', unmet.acr ? 'a different authentication level is required' : 'a more recent authentication is required', {
    status: 401,
    error: 'insufficient_user_authentication',
  });
}

/**
 * The login a step-up route started came back without the asked `acr` (the
 * OP may ignore `acr_values`, OIDC Core 5.5.1.1): the route is not granted,
 * and the user is not sent round again.
 */
export function stepUpFailed(): OidcError {
  return new OidcError('ERR_STEP_UP_FAILED', 'the login did not provide the authentication level this page requires', { status: 403 });
}
