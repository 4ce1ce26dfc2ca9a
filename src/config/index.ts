import { OidcError } from '../errors.js';
import { hidePrinting, REDACTED } from '../printing.js';
import { OPTION_SPECS } from './schema.js';
import { SigningKey, type SigningKeyInput } from '../client/signing-key.js';
import { resolveTransport, type TransportOptions } from '../client/transport.js';
import { weakSecretReason } from './secret-strength.js';
import type { AuthOptions, ClientAuthMethod, Config } from './types.js';
import { paramStrings } from './params.js';
import { checkUnknownOptions, valueAt } from './unknown.js';

export type * from './types.js';
export { OPTION_SPECS } from './schema.js';

/** Shortest secret accepted: cookie signatures are only as strong as the key. */
export const MIN_SECRET_LENGTH = 32;

function fail(path: string, mustBe: string): never {
  throw new OidcError('ERR_CONFIG_INVALID', `Invalid option "${path}": must be ${mustBe}.`, { status: 500 });
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  const last = keys.pop() as string;
  let node = target;
  for (const key of keys) {
    node[key] ??= {};
    node = node[key] as Record<string, unknown>;
  }
  node[last] = value;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  } else if (Array.isArray(value)) {
    Object.freeze(value);
  }
  return value;
}

function isLoopback(url: URL): boolean {
  return ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}

/**
 * Validates `auth()` options once, fills defaults and env vars, and returns a
 * frozen config. Throws `ERR_CONFIG_INVALID` naming the option at fault.
 */
export function getConfig(options: AuthOptions = {}, env: NodeJS.ProcessEnv = process.env): Config {
  if (typeof options !== 'object' || options === null) fail('options', 'an object');
  const input = options as Record<string, unknown>;

  checkUnknownOptions(input, OPTION_SPECS);

  const resolved: Record<string, unknown> = {};
  for (const spec of OPTION_SPECS) {
    let value = valueAt(input, spec.path);
    if (value === undefined && spec.env !== undefined && env[spec.env] !== undefined && env[spec.env] !== '') {
      value = env[spec.env];
    }
    if (value === undefined) {
      value = typeof spec.default === 'function' ? (spec.default as (r: Record<string, unknown>) => unknown)(resolved) : spec.default;
    }
    if (value === undefined) {
      // Optional options without a default stay absent; required ones are checked below.
      if (spec.defaultText === '(required)') fail(spec.path, `set (option or ${spec.env} env var)`);
      continue;
    }
    const problem = spec.check(value);
    if (problem !== undefined) fail(spec.path, problem);
    // Objects and arrays are copied so the caller's options are never frozen or changed.
    setPath(resolved, spec.path, isPlainObject(value) ? { ...value } : Array.isArray(value) ? [...value] : value);
  }

  crossCheck(resolved);
  const config = normalize(resolved);
  hostPrefixDefaults(input, config);
  return deepFreeze(hideConfigSecrets(config)) as unknown as Config;
}

/**
 * Printing the config (a debug line, a logger) shows no secret. The hooks are not copied with
 * the object: a config made from another (`{ ...config }`) needs this again.
 */
export function hideConfigSecrets<T extends { secret?: unknown; clientSecret?: unknown }>(config: T): T {
  return hidePrinting(config, 'Config', () => ({ ...config, secret: REDACTED, ...(config.clientSecret === undefined ? {} : { clientSecret: REDACTED }) }));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

function crossCheck(r: Record<string, unknown>): void {
  const issuer = new URL(r.issuerBaseURL as string);
  if (issuer.protocol !== 'https:' && !isLoopback(issuer)) fail('issuerBaseURL', 'https (http is allowed for localhost only)');
  const base = new URL(r.baseURL as string);
  if (base.search || base.hash) fail('baseURL', 'a URL without query or fragment');
  const cookie = valueAt(r, 'session.cookie') as Record<string, unknown>;
  if (cookie.secure === true && base.protocol !== 'https:') {
    fail('session.cookie.secure', 'false when baseURL is http (secure cookies are never sent over http)');
  }
  if (cookie.sameSite === 'None' && cookie.secure !== true) fail('session.cookie.sameSite', "'Lax' or 'Strict' unless cookies are secure");
  // Browsers drop SameSite=None cookies that are not Secure: the login would never find its transaction.
  const transaction = valueAt(r, 'transactionCookie') as Record<string, unknown>;
  if (transaction.sameSite === 'None' && cookie.secure !== true) fail('transactionCookie.sameSite', "'Lax' or 'Strict' unless cookies are secure");
  checkAuthorizationParams(valueAt(r, 'authorizationParams') as Record<string, unknown>);
  const bcl = r.backchannelLogout as Record<string, unknown> | boolean;
  if (typeof bcl === 'object' && bcl.index !== undefined && bcl.store !== undefined) fail('backchannelLogout.store', 'left out when backchannelLogout.index is set (both say where logout entries are kept)');

  const secrets = typeof r.secret === 'string' ? [r.secret] : (r.secret as string[]);
  if (secrets.length === 0) fail('secret', 'a string or a non-empty array of strings');
  if (secrets.some((s) => s.length < MIN_SECRET_LENGTH)) fail('secret', `at least ${MIN_SECRET_LENGTH} characters long (each one)`);
  for (const secret of secrets) {
    const weakness = weakSecretReason(secret);
    if (weakness !== undefined) fail('secret', `random, and this one is guessable (${weakness}); make one with \`openssl rand -hex 32\``);
  }

  const method = r.clientAuthMethod as string;
  if (method.startsWith('client_secret') && !r.clientSecret) fail('clientSecret', `set when clientAuthMethod is '${method}'`);
  // Keys, mTLS and JAR are checked together, as AuthClient checks them: a combination that cannot work fails now.
  resolveTransport(r as unknown as TransportOptions & { clientAuthMethod: ClientAuthMethod; clientSecret?: string });

}

/** Every authorization parameter goes into a URL: it must be a plain value, and `max_age` a number of seconds. */
function checkAuthorizationParams(params: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      fail(`authorizationParams.${key}`, 'a string, a number or a boolean');
    }
  }
  const maxAge = params.max_age;
  const wholeSeconds = (typeof maxAge === 'number' && Number.isInteger(maxAge) && maxAge >= 0) || (typeof maxAge === 'string' && /^\d+$/.test(maxAge));
  if (maxAge !== undefined && !wholeSeconds) fail('authorizationParams.max_age', 'a whole number of seconds (0 or more)');
}

/** The cookie prefix browsers bind to one origin: Secure, `Path=/`, no `Domain`. */
const HOST_PREFIX = '__Host-';

/**
 * On https with no cookie `domain`, the default cookie names get the
 * `__Host-` prefix: browsers then refuse such a cookie unless it is Secure,
 * host-only and on `/`, so a sibling subdomain (or an http page on the same
 * host) cannot plant a session or transaction cookie for the app (cookie
 * tossing). A name the app sets is kept as it is.
 */
function hostPrefixDefaults(input: Record<string, unknown>, r: Record<string, unknown>): void {
  const session = r.session as Record<string, unknown>;
  const cookie = session.cookie as Record<string, unknown>;
  if (cookie.secure !== true || cookie.domain !== undefined) return;
  if (valueAt(input, 'session.name') === undefined && cookie.path === '/') session.name = HOST_PREFIX + (session.name as string);
  const transaction = r.transactionCookie as Record<string, unknown>;
  if (valueAt(input, 'transactionCookie.name') === undefined) transaction.name = HOST_PREFIX + (transaction.name as string);
}

function normalize(r: Record<string, unknown>): Record<string, unknown> {
  r.secret = typeof r.secret === 'string' ? [r.secret] : [...(r.secret as string[])];
  r.issuerBaseURL = (r.issuerBaseURL as string).replace(/\/+$/, '');
  r.baseURL = (r.baseURL as string).replace(/\/+$/, '');
  r.logoutParams = paramStrings(r.logoutParams, 'logoutParams');
  r.tokenEndpointParams = paramStrings(r.tokenEndpointParams, 'tokenEndpointParams');
  r.clientSecret ??= undefined;
  // Keys become SigningKeys at once: checked now, and they never print their material.
  r.clientAssertionSigningKey =
    r.clientAssertionSigningKey === undefined ? undefined : SigningKey.from(r.clientAssertionSigningKey as SigningKeyInput, r.clientAssertionSigningAlg as string | undefined, 'clientAssertionSigningKey');
  r.requestObjectSigningKey =
    r.requestObjectSigningKey === undefined ? undefined : SigningKey.from(r.requestObjectSigningKey as SigningKeyInput, r.requestObjectSigningAlg as string | undefined, 'requestObjectSigningKey');
  r.clientAssertionSigningAlg ??= undefined;
  r.requestObjectSigningAlg ??= undefined;
  r.requestObjectSigningKeyId ??= undefined;
  r.customFetch ??= undefined;
  r.afterCallback ??= undefined;
  r.refreshLock ??= undefined;
  r.logger ??= undefined;
  const session = r.session as Record<string, unknown>;
  session.store ??= undefined;
  (session.cookie as Record<string, unknown>).domain ??= undefined;

  const bcl = r.backchannelLogout;
  const hooks = (bcl === true ? {} : bcl) as Record<string, unknown>;
  r.backchannelLogout =
    bcl === false
      ? false
      : { index: hooks.index ?? undefined, store: hooks.store ?? undefined, onLogoutToken: hooks.onLogoutToken ?? undefined, isLoggedOut: hooks.isLoggedOut ?? undefined, onLogin: hooks.onLogin ?? undefined };
  const pwd = r.passwordLogin;
  r.passwordLogin =
    pwd === false
      ? false
      : {
          realm: (pwd as Record<string, unknown>).realm,
          audience: (pwd as Record<string, unknown>).audience,
          scope: (pwd as Record<string, unknown>).scope,
          throttle: (pwd as Record<string, unknown>).throttle,
        };
  const dpop = r.useDPoP;
  r.useDPoP =
    dpop === false
      ? false
      : { keyPair: (dpop as { keyPair?: unknown }).keyPair ?? undefined, alg: (dpop as { alg?: unknown }).alg ?? 'ES256' };
  return r;
}
