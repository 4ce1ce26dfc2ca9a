/**
 * Options are validated once, when auth() is called: every kind of mistake throws
 * ERR_CONFIG_INVALID naming the option and what it must be; env vars fill the connection
 * options; defaults are those express-openid-connect users expect; the result is frozen.
 */
import session from 'express-session';
import { auth, OidcError, type AuthOptions } from '../../src/index.js';
import { getConfig } from '../../src/config/index.js';

const VALID: AuthOptions = {
  issuerBaseURL: 'https://tenant.example.com',
  baseURL: 'https://app.example.com',
  clientID: 'client-1',
  clientSecret: 'client-secret',
  secret: 'a-secret-that-is-at-least-32-characters-long',
};
const NO_ENV = {};

/** The error getConfig throws for these options, or a failure when it does not throw. */
function configError(options: unknown, env: NodeJS.ProcessEnv = NO_ENV): OidcError {
  try {
    getConfig(options as AuthOptions, env);
  } catch (err) {
    if (!(err instanceof OidcError)) throw err;
    return err;
  }
  throw new Error('expected the options to be refused');
}

function expectRefused(options: unknown, option: string, mustBe: RegExp) {
  const err = configError(options);
  expect(err.code).toBe('ERR_CONFIG_INVALID');
  expect(err.message).toContain(`"${option}"`);
  expect(err.message).toMatch(mustBe);
}

describe('refused at auth() time', () => {
  test('auth() throws while the app is being set up, not at the first request', () => {
    expect(() => auth({ ...VALID, clockTolerance: -1 })).toThrow(OidcError);
    expect(() => auth({ ...VALID, clockTolerance: -1 })).toThrow(/"clockTolerance"/);
  });

  test.each(['issuerBaseURL', 'baseURL', 'clientID', 'secret'] as const)('missing %s (and no env var)', (option) => {
    const options: Record<string, unknown> = { ...VALID };
    delete options[option];
    expectRefused(options, option, /must be set \(option or [A-Z_]+ env var\)/);
  });

  test.each([
    ['authRequired', 'yes', /true or false/],
    ['idpLogout', 1, /true or false/],
    ['clockTolerance', '60', /a number of 0 or more/],
    ['clockTolerance', -5, /a number of 0 or more/],
    ['httpTimeout', 0, /a number greater than 0/],
    ['httpTimeout', Number.NaN, /a number greater than 0/],
    ['discoveryCacheMaxAge', Number.POSITIVE_INFINITY, /a number greater than 0/],
    ['clientID', '', /a non-empty string/],
    ['clientSecret', 42, /a non-empty string/],
    ['secret', 42, /a non-empty string, or an array of strings/],
    ['issuerBaseURL', 'tenant.example.com', /an absolute http\(s\) URL/],
    ['baseURL', 'ftp://app.example.com', /an absolute http\(s\) URL/],
    ['idTokenSigningAlg', 'HS256', /one of "RS256"/],
    ['idTokenSigningAlg', 'none', /one of "RS256"/],
    ['clientAuthMethod', 'magic', /one of "client_secret_basic"/],
    ['afterCallback', 'not a function', /a function/],
    ['identityClaimFilter', 'email', /an array of strings/],
    ['tokenEndpointParams', { a: { nested: true } }, /an object of string, number or boolean values \("a" is not\)/],
    ['logoutParams', { a: ['x'] }, /an object of string, number or boolean values \("a" is not\)/],
    ['authorizationParams', 'scope=openid', /an object/],
    ['routes', '/login', /an object/],
    ['session', true, /an object/],
  ])('%s = %p has the wrong type', (option, value, mustBe) => {
    expectRefused({ ...VALID, [option]: value }, option, mustBe);
  });

  test.each([
    ['routes.login', { routes: { login: 'login' } }, /a path starting with '\/', or false/],
    ['routes.callback', { routes: { callback: '//evil.example.com/cb' } }, /a path starting with '\/'/],
    ['routes.callback', { routes: { callback: true } }, /a path starting with '\/', or false/],
    ['session.rollingDuration', { session: { rollingDuration: '1d' } }, /a number greater than 0/],
    ['session.absoluteDuration', { session: { absoluteDuration: true } }, /a number greater than 0, or one of false/],
    ['session.store', { session: { store: {} } }, /an express-session store/],
    ['session.name', { session: { name: 'my session' } }, /a cookie name/],
    ['session.cookie.sameSite', { session: { cookie: { sameSite: 'lax-ish' } } }, /one of "Lax", "Strict", "None"/],
    ['authorizationParams.scope', { authorizationParams: { scope: 'profile email' } }, /includes 'openid'/],
    ['authorizationParams.response_mode', { authorizationParams: { response_mode: 'fragment' } }, /one of "query", "form_post"/],
    ['authorizationParams.max_age', { authorizationParams: { max_age: -1 } }, /a whole number of seconds/],
    ['authorizationParams.max_age', { authorizationParams: { max_age: '1h' } }, /a whole number of seconds/],
    ['authorizationParams.audience', { authorizationParams: { audience: { url: 'x' } } }, /a string, a number or a boolean/],
  ])('%s: nested option of the wrong type or shape', (option, extra, mustBe) => {
    expectRefused({ ...VALID, ...extra }, option, mustBe);
  });

  test.each(['id_token', 'code id_token', 'token', 'none'])('unknown response_type %p', (responseType) => {
    expectRefused({ ...VALID, authorizationParams: { response_type: responseType } }, 'authorizationParams.response_type', /one of "code"/);
  });

  test('an http baseURL with secure cookies', () => {
    expectRefused({ ...VALID, baseURL: 'http://app.example.com', session: { cookie: { secure: true } } }, 'session.cookie.secure', /false when baseURL is http/);
  });

  test.each([
    ['a short string', 'too-short'],
    ['one short element of an array', ['a-secret-that-is-at-least-32-characters-long', 'short']],
  ])('a secret too short: %s', (_name, secret) => {
    expectRefused({ ...VALID, secret }, 'secret', /at least 32 characters/);
  });

  test('an empty array of secrets', () => {
    expectRefused({ ...VALID, secret: [] }, 'secret', /non-empty array/);
  });

  test.each([
    ['issuerBaseUrl', { issuerBaseUrl: 'https://x' }, 'issuerBaseURL'],
    ['authRequied', { authRequied: false }, 'authRequired'],
    ['routes.logon', { routes: { logon: '/logon' } }, 'routes.login'],
    ['session.rollingDurations', { session: { rollingDurations: 5 } }, 'session.rollingDuration'],
    ['transactionCookie.path', { transactionCookie: { path: '/' } }, undefined],
    ['backchannelLogout.onLogoutTokn', { backchannelLogout: { onLogoutTokn: () => {} } }, 'backchannelLogout.onLogoutToken'],
    ['backchannelLogout.indx', { backchannelLogout: { indx: {} } }, 'backchannelLogout.index'],
    ['passwordLogin.realmm', { passwordLogin: { realmm: 'db' } }, 'passwordLogin.realm'],
    ['useDPoP.algorithm', { useDPoP: { algorithm: 'ES256' } }, undefined],
    ['clientAssertionSigningKeys', { clientAssertionSigningKeys: 'x' }, 'clientAssertionSigningKey'],
  ])('an unknown option (%s) is refused rather than ignored, with the nearest name', (option, extra, nearest) => {
    const err = configError({ ...VALID, ...extra });
    expect(err.code).toBe('ERR_CONFIG_INVALID');
    expect(err.message).toBe(`Unknown option "${option}".${nearest === undefined ? '' : ` Did you mean "${nearest}"?`}`);
  });

  test('authorizationParams stays open: any parameter is passed on', () => {
    expect(getConfig({ ...VALID, authorizationParams: { ui_locales: 'fr', acr_values: 'x' } }, NO_ENV).authorizationParams).toMatchObject({ ui_locales: 'fr', acr_values: 'x' });
  });

  test.each([
    ['auth0Logout', { auth0Logout: true }, /use "idpLogout: true"/],
    ['enableTelemetry', { enableTelemetry: false }, /remove it/],
    ['legacySameSiteCookie', { legacySameSiteCookie: false }, /remove it/],
    ['httpUserAgent', { httpUserAgent: 'my-app' }, /remove it/],
    ['session.genid', { session: { genid: () => 'x' } }, /random session id/],
    ['session.signSessionStoreCookie', { session: { signSessionStoreCookie: true } }, /always signed/],
  ])("an express-openid-connect option this library does not take (%s) says what to use instead", (option, extra, instead) => {
    const err = configError({ ...VALID, ...extra });
    expect(err.code).toBe('ERR_CONFIG_INVALID');
    expect(err.message).toContain(`Option "${option}" of express-openid-connect is not supported: `);
    expect(err.message).toMatch(instead);
  });

  test('session.cookie.httpOnly: true is what happens anyway; false is refused', () => {
    expect(getConfig({ ...VALID, session: { cookie: { httpOnly: true } } }, NO_ENV).session.cookie.httpOnly).toBe(true);
    expectRefused({ ...VALID, session: { cookie: { httpOnly: false as unknown as true } } }, 'session.cookie.httpOnly', /always HttpOnly/);
  });

  test.each([
    ['backchannelLogout.onLogoutToken', { backchannelLogout: { onLogoutToken: 'destroy' } }, /a function/],
    ['backchannelLogout.isLoggedOut', { backchannelLogout: { isLoggedOut: true } }, /a function, or one of false/],
    ['backchannelLogout.onLogin', { backchannelLogout: { onLogin: {} } }, /a function, or one of false/],
    ['backchannelLogout.index', { backchannelLogout: { index: {} } }, /a LogoutIndex/],
    ['backchannelLogout.store', { backchannelLogout: { store: {} } }, /an express-session store/],
    ['passwordLogin.realm', { passwordLogin: { realm: '' } }, /a non-empty string/],
    ['useDPoP.alg', { useDPoP: { alg: 'HS256' } }, /one of/],
  ])('nested option %s of the wrong type', (option, extra, mustBe) => {
    expectRefused({ ...VALID, ...extra }, option, mustBe);
  });

  test('the back-channel hooks are kept in the config, with their meaning', () => {
    const onLogoutToken = () => {};
    const onLogin = () => {};
    const config = getConfig({ ...VALID, backchannelLogout: { onLogoutToken, isLoggedOut: false, onLogin } }, NO_ENV);
    expect(config.backchannelLogout).toEqual({ index: undefined, store: undefined, onLogoutToken, isLoggedOut: false, onLogin });
  });

  test.each(['http://op.example.com', 'http://10.0.0.8', 'http://localhost.evil.example.com'])('an http issuer off the loopback interface: %s', (issuer) => {
    expectRefused({ ...VALID, issuerBaseURL: issuer }, 'issuerBaseURL', /https \(http is allowed for localhost only\)/);
  });

  test.each(['http://localhost:4000', 'http://127.0.0.1:4000', 'http://[::1]:4000'])('an http issuer on loopback is allowed: %s', (issuer) => {
    expect(getConfig({ ...VALID, issuerBaseURL: issuer }, NO_ENV).issuerBaseURL).toBe(issuer);
  });

  test('a baseURL with a query or fragment', () => {
    expectRefused({ ...VALID, baseURL: 'https://app.example.com/?x=1' }, 'baseURL', /without query or fragment/);
    expectRefused({ ...VALID, baseURL: 'https://app.example.com/#top' }, 'baseURL', /without query or fragment/);
  });

  test.each(['client_secret_basic', 'client_secret_post', 'client_secret_jwt'] as const)('%s without a clientSecret', (method) => {
    const options: AuthOptions = { ...VALID, clientAuthMethod: method };
    delete options.clientSecret;
    expectRefused(options, 'clientSecret', new RegExp(`set when clientAuthMethod is '${method}'`));
  });

  test('private_key_jwt without a signing key', () => {
    expectRefused({ ...VALID, clientAuthMethod: 'private_key_jwt' }, 'clientAssertionSigningKey', /set when clientAuthMethod is 'private_key_jwt'/);
  });

  test('SameSite=None cookies that are not Secure', () => {
    const http = { ...VALID, baseURL: 'http://localhost:3000' };
    expectRefused({ ...http, session: { cookie: { sameSite: 'None' } } }, 'session.cookie.sameSite', /unless cookies are secure/);
    expectRefused({ ...http, transactionCookie: { sameSite: 'None' } }, 'transactionCookie.sameSite', /unless cookies are secure/);
  });

  test('options that are not an object', () => {
    expect(() => getConfig('https://x' as unknown as AuthOptions, NO_ENV)).toThrow(/"options": must be an object/);
  });

  test('messages never contain the values given (a secret may be among them)', () => {
    const secret = 'short-secret-value';
    expect(configError({ ...VALID, secret }).message).not.toContain(secret);
  });
});

describe('env vars', () => {
  const ENV = {
    ISSUER_BASE_URL: 'https://env-tenant.example.com',
    BASE_URL: 'https://env-app.example.com',
    CLIENT_ID: 'env-client',
    CLIENT_SECRET: 'env-client-secret',
    SECRET: 'an-env-secret-that-is-at-least-32-characters',
  };

  test('fill the five connection options when they are absent', () => {
    const config = getConfig({}, ENV);
    expect(config.issuerBaseURL).toBe(ENV.ISSUER_BASE_URL);
    expect(config.baseURL).toBe(ENV.BASE_URL);
    expect(config.clientID).toBe(ENV.CLIENT_ID);
    expect(config.clientSecret).toBe(ENV.CLIENT_SECRET);
    expect(config.secret).toEqual([ENV.SECRET]);
  });

  test('options win over env vars', () => {
    const config = getConfig({ clientID: 'from-options' }, ENV);
    expect(config.clientID).toBe('from-options');
  });

  test('an empty env var counts as absent', () => {
    const err = configError({}, { ...ENV, CLIENT_ID: '' });
    expect(err.message).toContain('"clientID"');
  });

  test('env vars are validated like options', () => {
    const err = configError({}, { ...ENV, SECRET: 'short' });
    expect(err.message).toContain('"secret"');
  });

  test('auth() reads process.env', () => {
    const saved = { ...process.env };
    try {
      Object.assign(process.env, ENV);
      expect(auth().config.clientID).toBe(ENV.CLIENT_ID);
    } finally {
      for (const key of Object.keys(ENV)) delete process.env[key];
      Object.assign(process.env, saved);
    }
  });
});

describe('defaults', () => {
  test('what express-openid-connect users expect', () => {
    const config = getConfig(VALID, NO_ENV);
    expect(config.authRequired).toBe(true);
    expect(config.routes).toMatchObject({ login: '/login', logout: '/logout', callback: '/callback', postLogoutRedirect: '/' });
    expect(config.authorizationParams).toEqual({ response_type: 'code', scope: 'openid profile email' });
    expect(config.session).toMatchObject({ name: '__Host-appSession', rolling: true, rollingDuration: 86_400, absoluteDuration: 604_800, store: undefined });
    expect(config.session.cookie).toMatchObject({ secure: true, sameSite: 'Lax', path: '/', transient: false });
    expect(config.clockTolerance).toBe(60);
    expect(config.httpTimeout).toBe(5_000);
    expect(config.idTokenSigningAlg).toBe('RS256');
    expect(config.clientAuthMethod).toBe('client_secret_basic');
    expect(config.idpLogout).toBe(false);
    expect(config.pushedAuthorizationRequests).toBe(false);
    expect(config.errorOnRequiredAuth).toBe(false);
    expect(config.identityClaimFilter).toEqual(expect.arrayContaining(['aud', 'iss', 'iat', 'exp', 'nonce', 'sid']));
  });

  test('a client without a secret authenticates with none (public client)', () => {
    const options: AuthOptions = { ...VALID };
    delete options.clientSecret;
    expect(getConfig(options, NO_ENV).clientAuthMethod).toBe('none');
  });

  test('cookies are Secure by default on https only', () => {
    expect(getConfig({ ...VALID, baseURL: 'http://localhost:3000' }, NO_ENV).session.cookie.secure).toBe(false);
  });

  test('authorizationParams given are merged over the defaults', () => {
    const config = getConfig({ ...VALID, authorizationParams: { audience: 'https://api.example.com', max_age: 0 } }, NO_ENV);
    expect(config.authorizationParams).toEqual({ response_type: 'code', scope: 'openid profile email', audience: 'https://api.example.com', max_age: 0 });
  });

  test('trailing slashes of the URLs are dropped', () => {
    const config = getConfig({ ...VALID, issuerBaseURL: 'https://tenant.example.com/', baseURL: 'https://app.example.com/' }, NO_ENV);
    expect(config.issuerBaseURL).toBe('https://tenant.example.com');
    expect(config.baseURL).toBe('https://app.example.com');
  });
});

describe('the result', () => {
  test('is frozen all the way down', () => {
    const config = getConfig({ ...VALID, identityClaimFilter: ['aud'], authorizationParams: { audience: 'x' } }, NO_ENV);
    for (const part of [config, config.routes, config.session, config.session.cookie, config.authorizationParams, config.secret, config.identityClaimFilter, config.transactionCookie]) {
      expect(Object.isFrozen(part)).toBe(true);
    }
    expect(() => {
      (config as { authRequired: boolean }).authRequired = false;
    }).toThrow(TypeError);
  });

  test('leaves the caller\'s options untouched and unfrozen', () => {
    const filter = ['aud', 'iss'];
    const secrets = ['a-secret-that-is-at-least-32-characters-long'];
    const store = new session.MemoryStore();
    const options: AuthOptions = { ...VALID, secret: secrets, identityClaimFilter: filter, session: { store, cookie: { path: '/' } }, authorizationParams: { audience: 'x' } };
    const snapshot = JSON.stringify(options);
    getConfig(options, NO_ENV);
    expect(JSON.stringify(options)).toBe(snapshot);
    for (const part of [options, filter, secrets, options.session, options.session?.cookie, options.authorizationParams, store]) {
      expect(Object.isFrozen(part)).toBe(false);
    }
  });

  test('the store given is used as is', () => {
    const store = new session.MemoryStore();
    expect(getConfig({ ...VALID, session: { store } }, NO_ENV).session.store).toBe(store);
  });
});
