/**
 * Extra request parameters (token endpoint, end-session endpoint) go into a
 * form or a URL, so each value must be a plain value. express-openid-connect
 * types them loosely (`unknown`, `any`); numbers and booleans are sent as
 * their text, null and undefined leave the parameter out, and anything else
 * (an object, an array, a function) is refused, naming the parameter.
 */
import { OidcError } from '../errors.js';

/** What a parameter value may be; null and undefined leave it out. */
export type ParamValue = string | number | boolean | null | undefined;

/** Why `value` is not a parameter object, or undefined when it is one. */
export function paramProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'an object of string, number or boolean values';
  for (const [key, item] of Object.entries(value)) {
    if (item !== null && item !== undefined && !['string', 'number', 'boolean'].includes(typeof item)) return `an object of string, number or boolean values ("${key}" is not)`;
  }
  return undefined;
}

/** The parameters as strings; throws `ERR_CONFIG_INVALID` (500) naming `what` when a value cannot be sent. */
export function paramStrings(value: unknown, what: string): Record<string, string> {
  const problem = paramProblem(value);
  if (problem !== undefined) throw new OidcError('ERR_CONFIG_INVALID', `${what} must be ${problem}`, { status: 500 });
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (item !== null && item !== undefined) out[key] = String(item);
  }
  return out;
}

/** `value` when it is a non-empty string; else `ERR_CONFIG_INVALID` (500) naming `what`. */
export function nonEmptyString(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new OidcError('ERR_CONFIG_INVALID', `${what} must be a non-empty string`, { status: 500 });
  return value;
}
