import { decodeJwt } from 'jose';
import { OidcError } from '../../errors.js';
import type { ActClaim, ExchangeParamValue } from './requests.js';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
export const REFRESH_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:refresh_token';
export const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';

/** Parameters the client's identity and the grant itself are carried in: never from `extra`. */
const ALWAYS_RESERVED = ['grant_type', 'client_id', 'client_secret', 'client_assertion', 'client_assertion_type'];

/** A request a token exchange cannot send: refused before any request, naming the field. */
export function invalid(what: string, problem: string): OidcError {
  return new OidcError('ERR_TOKEN_EXCHANGE_INVALID', `${what}: ${problem}`, { status: 400 });
}

/**
 * A call the code makes wrongly (an unknown field, a value of the wrong kind): a 500 for the
 * developer, never shown to the user, as the names in it may come from anywhere.
 */
export function misuse(what: string, problem: string): OidcError {
  return new OidcError('ERR_CONFIG_INVALID', `${what}: ${problem}`, { status: 500 });
}

/** Refuses fields this operation does not know (a typo, or express-openid-connect's snake_case names). */
export function checkFields(request: unknown, known: readonly string[], what: string): void {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) throw misuse(what, 'the request must be an object');
  for (const key of Object.keys(request)) {
    if (!known.includes(key)) {
      const hint = key.includes('_') ? ` (did you mean "${fieldName(key.replace(/_(\w)/g, (_m, c: string) => c.toUpperCase()))}"?)` : '';
      throw misuse(what, `unknown field "${fieldName(key)}"${hint}`);
    }
  }
}

/** A token to send: a non-empty string without surrounding spaces or a `Bearer ` prefix. */
export function checkToken(value: unknown, field: string, what: string): asserts value is string {
  if (typeof value !== 'string' || value.trim().length === 0) throw invalid(what, `"${field}" is required`);
  if (value !== value.trim()) throw invalid(what, `"${field}" must not start or end with spaces`);
  if (/^bearer\s/i.test(value)) throw invalid(what, `"${field}" must be the token alone, without "Bearer "`);
}

/** An optional text parameter: absent, or a non-blank string. */
export function checkOptional(value: unknown, field: string, what: string): asserts value is string | undefined {
  if (value !== undefined && (typeof value !== 'string' || value.trim().length === 0)) {
    throw invalid(what, `"${field}" must be a non-empty string`);
  }
}

/**
 * `extra` as body parameters. A parameter the operation sets itself, or one
 * carrying the grant or the client's identity, is refused rather than dropped.
 */
export function extraParams(extra: unknown, reserved: readonly string[], what: string): Record<string, string> {
  if (extra === undefined) return {};
  if (typeof extra !== 'object' || extra === null || Array.isArray(extra)) throw misuse(what, '"extra" must be an object');
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(extra as Record<string, unknown>)) {
    if (ALWAYS_RESERVED.includes(key) || reserved.includes(key)) {
      throw invalid(what, `"extra" may not set "${fieldName(key)}"`);
    }
    if (!isParamValue(value)) throw misuse(what, `"extra.${fieldName(key)}" must be a string, number or boolean`);
    out[key] = String(value);
  }
  return out;
}

/** The `act` claim of the validated ID token, else of a JWT access token; undefined when neither carries one. */
export function actClaim(idTokenClaims: Record<string, unknown> | undefined, accessToken: string): ActClaim | undefined {
  if (isAct(idTokenClaims?.act)) return idTokenClaims.act as ActClaim;
  try {
    // The access token is for the API, not for this client: its claims are read, not trusted.
    const act = decodeJwt(accessToken).act;
    return isAct(act) ? act : undefined;
  } catch {
    return undefined; // an opaque access token
  }
}

function isAct(value: unknown): value is ActClaim {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as { sub?: unknown }).sub === 'string';
}

function isParamValue(value: unknown): value is ExchangeParamValue {
  return typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}

/** A field name for a message: app-chosen names are echoed only when they are plain identifiers. */
function fieldName(key: string): string {
  return /^[\w.:-]{1,64}$/.test(key) ? key : 'invalid name';
}
