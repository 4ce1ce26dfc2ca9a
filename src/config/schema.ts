import { SIGNING_ALGS } from '../client/signing-key.js';
import { defaultClientAuthMethod } from '../client/transport.js';

/**
 * The options of `auth()` as data: name, env var, default, unit and meaning.
 * The validator walks this list; the configuration table is generated from it
 * (`npm run docs:options`), and a test checks that the TSDoc comments of
 * `AuthOptions` (src/config/types.ts) give the same default and unit.
 */

import { paramProblem } from './params.js';

/** Returns what the value must be when it is wrong, or undefined when it is fine. */
export type Check = (value: unknown) => string | undefined;

export interface OptionSpec {
  /** Dotted path in the options object. */
  path: string;
  /** Environment variable read when the option is absent. */
  env?: string;
  /** Default value, or a function of the options resolved so far. */
  default?: unknown | ((resolved: Record<string, unknown>) => unknown);
  /** The default as the docs show it (and the `@defaultValue` of its TSDoc). */
  defaultText: string;
  /** The unit of a number option (its TSDoc names it too). */
  unit?: 'seconds' | 'milliseconds';
  /** One line of meaning, for the README. */
  describe: string;
  check: Check;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export const checks = {
  string: ((v) => (typeof v === 'string' && v.length > 0 ? undefined : 'a non-empty string')) as Check,
  boolean: ((v) => (typeof v === 'boolean' ? undefined : 'true or false')) as Check,
  function: ((v) => (typeof v === 'function' ? undefined : 'a function')) as Check,
  object: ((v) => (isObject(v) ? undefined : 'an object')) as Check,
  any: (() => undefined) as Check,
  nonNegativeNumber: ((v) =>
    typeof v === 'number' && Number.isFinite(v) && v >= 0 ? undefined : 'a number of 0 or more') as Check,
  positiveNumber: ((v) =>
    typeof v === 'number' && Number.isFinite(v) && v > 0 ? undefined : 'a number greater than 0') as Check,
  url: ((v) => {
    if (typeof v !== 'string') return 'an absolute http(s) URL';
    try {
      const u = new URL(v);
      return u.protocol === 'https:' || u.protocol === 'http:' ? undefined : 'an absolute http(s) URL';
    } catch {
      return 'an absolute http(s) URL';
    }
  }) as Check,
  path: ((v) =>
    typeof v === 'string' && /^\/[^\s\\]*$/.test(v) && !v.startsWith('//') ? undefined : "a path starting with '/'") as Check,
  pathOrFalse: ((v) =>
    v === false || (typeof v === 'string' && /^\/[^\s\\]*$/.test(v) && !v.startsWith('//'))
      ? undefined
      : "a path starting with '/', or false") as Check,
  oneOf:
    (...allowed: unknown[]): Check =>
    (v) =>
      allowed.includes(v) ? undefined : `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`,
  stringArray: ((v) =>
    Array.isArray(v) && v.every((s) => typeof s === 'string') ? undefined : 'an array of strings') as Check,
  either:
    (...options: Check[]): Check =>
    (v) => {
      const problems = options.map((c) => c(v));
      return problems.some((p) => p === undefined) ? undefined : problems.join(', or ');
    },
  /** A CryptoKey (private), a PEM private key or a JWK; `SigningKey` checks the key itself. */
  signingKey: ((v) =>
    (typeof v === 'string' && v.includes('PRIVATE KEY')) || (isObject(v) && (typeof v.kty === 'string' || (v as { type?: unknown }).type === 'private'))
      ? undefined
      : 'a private CryptoKey, a PEM private key (PKCS#8) or a private JWK') as Check,
  store: ((v) =>
    isObject(v) && typeof v.get === 'function' && typeof v.set === 'function' && typeof v.destroy === 'function'
      ? undefined
      : 'an express-session store (with get, set and destroy)') as Check,
};

/** A `LogoutIndex`: `add`, `take` and `claimOnce`. */
const checkLogoutIndex: Check = (v) =>
  typeof v === 'object' && v !== null && ['add', 'take', 'claimOnce'].every((m) => typeof (v as Record<string, unknown>)[m] === 'function')
    ? undefined
    : 'a LogoutIndex (MemoryLogoutIndex, RedisLogoutIndex, or an object with add, take and claimOnce)';

const isHttps = (url: unknown): boolean => typeof url === 'string' && url.startsWith('https:');

export const OPTION_SPECS: readonly OptionSpec[] = [
  { path: 'issuerBaseURL', env: 'ISSUER_BASE_URL', defaultText: '(required)', describe: "The OP's issuer URL; discovery is read from its `/.well-known/openid-configuration`.", check: checks.url },
  { path: 'baseURL', env: 'BASE_URL', defaultText: '(required)', describe: "The app's own public URL; routes and `returnTo` are resolved against it.", check: checks.url },
  { path: 'clientID', env: 'CLIENT_ID', defaultText: '(required)', describe: 'The client ID registered at the OP.', check: checks.string },
  { path: 'clientSecret', env: 'CLIENT_SECRET', defaultText: '(none)', describe: 'The client secret; required for the `client_secret_*` methods.', check: checks.string },
  { path: 'secret', env: 'SECRET', defaultText: '(required)', describe: 'Signs the session and transaction cookies (32+ characters); an array rotates: the first signs, all verify.', check: checks.either(checks.string, checks.stringArray) },
  { path: 'authRequired', default: true, defaultText: 'true', describe: 'Require a login on every route; false to guard routes one by one with `requiresAuth()`.', check: checks.boolean },
  { path: 'authorizationParams', default: {}, defaultText: "{ response_type: 'code', scope: 'openid profile email' }", describe: 'Parameters for the authorization endpoint (`audience`, `organization`, `prompt`, `max_age`, ...).', check: checks.object },
  { path: 'authorizationParams.response_type', default: 'code', defaultText: "'code'", describe: 'Only the authorization code flow is supported.', check: checks.oneOf('code') },
  { path: 'authorizationParams.response_mode', defaultText: '(OP default: query)', describe: "`'query'` or `'form_post'`.", check: checks.oneOf('query', 'form_post') },
  { path: 'authorizationParams.scope', default: 'openid profile email', defaultText: "'openid profile email'", describe: "Scopes to request; must include `openid`. Add `offline_access` for a refresh token.", check: (v) => (typeof v === 'string' && v.split(' ').includes('openid') ? undefined : "a space-separated string that includes 'openid'") },
  { path: 'pushedAuthorizationRequests', default: false, defaultText: 'false', describe: "Send the authorization parameters through the OP's PAR endpoint.", check: checks.boolean },
  { path: 'routes', default: {}, defaultText: '{}', describe: 'Paths of the routes `auth()` mounts.', check: checks.object },
  { path: 'routes.login', default: '/login', defaultText: "'/login'", describe: 'Login route, or false to mount none.', check: checks.pathOrFalse },
  { path: 'routes.logout', default: '/logout', defaultText: "'/logout'", describe: 'Logout route, or false to mount none.', check: checks.pathOrFalse },
  { path: 'routes.callback', default: '/callback', defaultText: "'/callback'", describe: 'Redirect URI path registered at the OP, or false when the app mounts its own callback route calling `res.oidc.callback()`.', check: checks.pathOrFalse },
  { path: 'routes.postLogoutRedirect', default: '/', defaultText: "'/'", describe: 'Where users land after logout (path on `baseURL`, or absolute URL on it).', check: checks.string },
  { path: 'routes.backchannelLogout', default: '/backchannel-logout', defaultText: "'/backchannel-logout'", describe: 'Back-channel logout route (mounted when `backchannelLogout` is on).', check: checks.path },
  { path: 'routes.passwordLogin', default: '/login/password', defaultText: "'/login/password'", describe: 'Password login route (mounted when `passwordLogin` is on).', check: checks.path },
  { path: 'idpLogout', default: false, defaultText: 'false', describe: "Also end the user's session at the OP on logout.", check: checks.boolean },
  { path: 'logoutParams', default: {}, defaultText: '{}', describe: "Extra parameters for the OP's end-session endpoint (numbers and booleans are sent as text, null leaves one out).", check: paramProblem },
  { path: 'session', default: {}, defaultText: '{}', describe: 'Session settings (express-session underneath).', check: checks.object },
  { path: 'session.store', defaultText: 'in-process store', describe: 'Any express-session store, e.g. connect-redis for many instances.', check: checks.store },
  { path: 'session.name', default: 'appSession', defaultText: "'appSession'", describe: 'Session cookie name; on https without `session.cookie.domain` the default is `__Host-appSession`.', check: (v) => (typeof v === 'string' && /^[\w.-]+$/.test(v) ? undefined : 'a cookie name of letters, digits, _ . -') },
  { path: 'session.rolling', default: true, defaultText: 'true', describe: 'Activity extends the session, up to `absoluteDuration`.', check: checks.boolean },
  { path: 'session.rollingDuration', default: 86_400, defaultText: '86400 (1 day)', unit: 'seconds', describe: 'Seconds of inactivity that end a rolling session.', check: checks.positiveNumber },
  { path: 'session.absoluteDuration', default: 604_800, defaultText: '604800 (7 days)', unit: 'seconds', describe: 'Seconds after login that end the session, or false.', check: checks.either(checks.positiveNumber, checks.oneOf(false)) },
  { path: 'session.storeTimeout', default: 2_000, defaultText: '2000', unit: 'milliseconds', describe: 'Milliseconds a store call may take before the request gets 503.', check: checks.positiveNumber },
  { path: 'session.cookie', default: {}, defaultText: '{}', describe: 'Session cookie attributes.', check: checks.object },
  { path: 'session.cookie.domain', defaultText: '(host only)', describe: 'Cookie domain.', check: checks.string },
  { path: 'session.cookie.path', default: '/', defaultText: "'/'", describe: 'Cookie path.', check: checks.path },
  { path: 'session.cookie.secure', default: (r: Record<string, unknown>) => isHttps(r.baseURL), defaultText: 'true on https', describe: 'Send the cookie over https only.', check: checks.boolean },
  { path: 'session.cookie.sameSite', default: 'Lax', defaultText: "'Lax'", describe: 'SameSite attribute.', check: checks.oneOf('Lax', 'Strict', 'None') },
  { path: 'session.cookie.httpOnly', default: true, defaultText: 'true', describe: 'Always true: the session cookie is never readable by scripts.', check: (v) => (v === true ? undefined : 'true (the session cookie is always HttpOnly)') },
  { path: 'session.cookie.transient', default: false, defaultText: 'false', describe: 'Browser-session cookie (no Max-Age).', check: checks.boolean },
  { path: 'transactionCookie', default: {}, defaultText: '{}', describe: 'The short-lived cookie that carries state, nonce and PKCE verifier.', check: checks.object },
  { path: 'transactionCookie.name', default: 'auth_verification', defaultText: "'auth_verification'", describe: 'Name prefix of transaction cookies; on https without `session.cookie.domain` the default is `__Host-auth_verification`.', check: (v) => (typeof v === 'string' && /^[\w-]+$/.test(v) ? undefined : 'a cookie name of letters, digits, _ -') },
  { path: 'transactionCookie.sameSite', default: 'Lax', defaultText: "'Lax'", describe: 'SameSite of transaction cookies (form_post on https uses None).', check: checks.oneOf('Lax', 'Strict', 'None') },
  { path: 'customFetch', defaultText: 'global fetch', describe: 'A `fetch` of your own for every request to the OP and to protected resources (proxies, agents, client certificates).', check: checks.function },
  { path: 'useMtls', default: false, defaultText: 'false', describe: 'Mutual TLS (RFC 8705): authenticate with the client certificate of `customFetch`, use the OP\'s `mtls_endpoint_aliases`, certificate-bound tokens.', check: checks.boolean },
  { path: 'clientAssertionSigningKey', defaultText: '(none)', describe: 'Private key for `private_key_jwt` (and JAR): a CryptoKey, a PEM string (PKCS#8) or a private JWK.', check: checks.signingKey },
  { path: 'clientAuthMethod', default: defaultClientAuthMethod, defaultText: "'tls_client_auth' with useMtls, 'client_secret_basic' with a secret, 'private_key_jwt' with a key, else 'none'", describe: 'How the client authenticates at the token endpoint.', check: checks.oneOf('client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth', 'none') },
  { path: 'clientAssertionSigningAlg', defaultText: 'from the key', describe: 'Algorithm of `clientAssertionSigningKey` (RSA: RS256, EC: by curve, Ed25519: EdDSA when absent).', check: checks.oneOf(...SIGNING_ALGS) },
  { path: 'requestObjectSigningAlg', defaultText: '(none: no JAR)', describe: 'JAR (RFC 9101): send the authorization request as a request object signed with this algorithm, also inside PAR.', check: checks.oneOf(...SIGNING_ALGS) },
  { path: 'requestObjectSigningKey', defaultText: '`clientAssertionSigningKey`', describe: 'Private key request objects are signed with (turns JAR on): a CryptoKey, a PEM string or a private JWK.', check: checks.signingKey },
  { path: 'requestObjectSigningKeyId', defaultText: "the JWK's `kid`", describe: 'The `kid` header of request objects.', check: checks.string },
  { path: 'clockTolerance', default: 60, defaultText: '60', unit: 'seconds', describe: 'Seconds of clock skew tolerated in ID token checks.', check: checks.nonNegativeNumber },
  { path: 'httpTimeout', default: 5_000, defaultText: '5000', unit: 'milliseconds', describe: 'Milliseconds any call to the OP may take.', check: checks.positiveNumber },
  { path: 'idTokenSigningAlg', default: 'RS256', defaultText: "'RS256'", describe: 'The only `alg` accepted for ID tokens.', check: checks.oneOf('RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA') },
  { path: 'discoveryCacheMaxAge', default: 600_000, defaultText: '600000 (10 min)', unit: 'milliseconds', describe: 'Milliseconds discovery (and JWKS) stay cached; failures are never cached.', check: checks.positiveNumber },
  { path: 'jwksCooldown', default: 30_000, defaultText: '30000', unit: 'milliseconds', describe: 'Milliseconds before an unknown `kid` may refetch the JWKS again.', check: checks.nonNegativeNumber },
  { path: 'afterCallback', defaultText: '(none)', describe: '`(req, res, session, state) => session`: change what is stored after login.', check: checks.function },
  { path: 'getLoginState', default: () => defaultLoginState, defaultText: '`{ returnTo }`', describe: 'Builds the app state carried through login.', check: checks.function },
  { path: 'identityClaimFilter', default: ['aud', 'iss', 'iat', 'exp', 'nbf', 'nonce', 'azp', 'auth_time', 's_hash', 'at_hash', 'c_hash', 'sid'], defaultText: 'protocol claims', describe: 'ID token claims left out of `req.oidc.user`.', check: checks.stringArray },
  { path: 'tokenEndpointParams', default: {}, defaultText: '{}', describe: 'Extra parameters for every token endpoint request (numbers and booleans are sent as text, null leaves one out).', check: paramProblem },
  { path: 'errorOnRequiredAuth', default: false, defaultText: 'false', describe: 'Answer 401 instead of redirecting browsers to login.', check: checks.boolean },
  { path: 'attemptSilentLogin', default: false, defaultText: 'false', describe: 'Try a `prompt=none` login once on a browser\'s first visit.', check: checks.boolean },
  { path: 'autoRefresh', default: true, defaultText: 'true', describe: 'Refresh an expiring access token before route handlers run.', check: checks.boolean },
  { path: 'refreshLeeway', default: 60, defaultText: '60', unit: 'seconds', describe: 'Seconds before expiry at which an access token is refreshed (at most half its lifetime).', check: checks.nonNegativeNumber },
  { path: 'refreshDeadline', default: 10_000, defaultText: '10000', unit: 'milliseconds', describe: 'Milliseconds one request may spend refreshing (lock waits, store and OP calls); then it gets its current token if unexpired, else 503 `ERR_REFRESH_TIMEOUT`.', check: checks.positiveNumber },
  { path: 'resourceParameter', default: 'audience', defaultText: "'audience'", describe: "How `getAccessToken({ audience })` names the API in the refresh grant: `'audience'` (Auth0) or `'resource'` (RFC 8707).", check: checks.oneOf('audience', 'resource') },
  { path: 'maxCachedApis', default: 10, defaultText: '10', describe: 'Most APIs whose tokens one session keeps; the least recently used is dropped first.', check: (v) => (Number.isInteger(v) && (v as number) >= 1 ? undefined : 'a whole number of 1 or more') },
  { path: 'refreshLock', defaultText: 'in-process', describe: 'Coordinates refreshes across instances (`RedisRefreshLock`).', check: (v) => (typeof v === 'object' && v !== null && typeof (v as { acquire?: unknown }).acquire === 'function' ? undefined : 'a RefreshLock') },
  { path: 'revokeOnLogout', default: true, defaultText: 'true', describe: 'Revoke the refresh token at the OP on logout.', check: checks.boolean },
  { path: 'backchannelLogout', default: false, defaultText: 'false', describe: 'Accept OIDC back-channel logout tokens (`true` or an object of the options below).', check: checks.either(checks.boolean, checks.object) },
  { path: 'backchannelLogout.index', defaultText: 'in-process (Redis when `session.store` is connect-redis)', describe: 'Which sessions belong to whom (`MemoryLogoutIndex`, `RedisLogoutIndex`).', check: checkLogoutIndex },
  { path: 'backchannelLogout.store', defaultText: '(none)', describe: "A connect-redis store: its Redis client keeps the logout index (express-openid-connect's option; other stores are refused, use `index`).", check: checks.store },
  { path: 'backchannelLogout.onLogoutToken', defaultText: '(none)', describe: '`(claims, config) => void`: ends the sessions a validated logout token names, instead of the built-in lookup.', check: checks.function },
  { path: 'backchannelLogout.isLoggedOut', defaultText: '(none)', describe: '`(req, config) => boolean`: checked on each signed-in request; true ends the session. `false` for none.', check: checks.either(checks.function, checks.oneOf(false)) },
  { path: 'backchannelLogout.onLogin', defaultText: '(none)', describe: '`(req, config) => void`: runs after each login. `false` for none.', check: checks.either(checks.function, checks.oneOf(false)) },
  { path: 'passwordLogin', default: false, defaultText: 'false', describe: 'Mount a password login route (`true` or `{ realm, audience, scope }`).', check: checks.either(checks.boolean, checks.object) },
  { path: 'passwordLogin.realm', defaultText: '(none)', describe: 'Auth0 database connection of the password-realm grant.', check: checks.string },
  { path: 'passwordLogin.audience', defaultText: '(none)', describe: 'API the password login asks a token for.', check: checks.string },
  { path: 'passwordLogin.scope', defaultText: '(none)', describe: 'Scope of the password login.', check: checks.string },
  { path: 'passwordLogin.throttle', defaultText: '(none)', describe: 'Hook `({ ip, username, step }, req) => boolean`, per IP and username; false answers 429 `ERR_LOGIN_THROTTLED`.', check: checks.function },
  { path: 'useDPoP', default: false, defaultText: 'false', describe: 'Bind tokens to a DPoP key (`true` or `{ keyPair, alg }`).', check: checks.either(checks.boolean, checks.object) },
  { path: 'useDPoP.keyPair', defaultText: 'generated per instance', describe: 'The `CryptoKeyPair` DPoP proofs are signed with.', check: (v) => (typeof v === 'object' && v !== null && 'privateKey' in v && 'publicKey' in v ? undefined : 'a CryptoKeyPair') },
  { path: 'useDPoP.alg', defaultText: "'ES256'", describe: 'Algorithm of a generated DPoP key.', check: checks.oneOf('ES256', 'ES384', 'EdDSA', 'PS256', 'RS256') },
  { path: 'logger', defaultText: '(none)', describe: 'Also send the log lines to this logger (`{ debug, info, warn, error }`, e.g. pino).', check: (v) => (typeof v === 'object' && v !== null && ['debug', 'info', 'warn', 'error'].every((level) => typeof (v as Record<string, unknown>)[level] === 'function') ? undefined : 'a logger with debug, info, warn and error functions') },
];

function defaultLoginState(_req: unknown, options: { returnTo?: string }): Record<string, unknown> {
  return { returnTo: options.returnTo };
}
