/**
 * No error, object or class of the library prints a token, a code, a secret or a cookie through
 * `util.inspect` (console.log/console.error), `JSON.stringify`, `String()` or a logger's error
 * serialiser. The objects come from a real login, refresh and machine-to-machine call against the
 * test OP, so they hold real tokens.
 */
import { inspect } from 'node:util';
import { generateKeyPair } from 'jose';
import { Browser } from '../helpers/browser.js';
import { APP_SECRET, freePort, startApp, type TestApp } from '../helpers/app.js';
import { createTestOP, TEST_CLIENT_SECRET, USERS, type TestOP } from '../helpers/op.js';
import {
  AuthClient,
  GuardedStore,
  MemoryLogoutIndex,
  MemoryRefreshLock,
  MemoryStore,
  MfaPendingError,
  MfaRequiredError,
  OidcError,
  RedisLogoutIndex,
  RedisRefreshLock,
  type RedisClientLike,
} from '../../src/index.js';
import { getConfig } from '../../src/config/index.js';
import { DPoPKey } from '../../src/dpop/key.js';
import { TransactionCookies } from '../../src/transaction/index.js';
import { Sessions } from '../../src/session/index.js';
import { Refresher } from '../../src/refresh/index.js';

let op: TestOP;
let app: TestApp;
/** What each route handed out, to be printed. */
const captured: Record<string, unknown> = {};

beforeAll(async () => {
  const port = await freePort();
  op = await createTestOP({ appBaseURL: `http://127.0.0.1:${port}` });
  app = await startApp(op.issuer, port, { passwordLogin: true }, (express) => {
    express.get('/capture', async (req, res, next) => {
      try {
        captured.requestContext = req.oidc;
        captured.accessToken = req.oidc.accessToken;
        captured.sessionStore = req.sessionStore;
        captured.machineTokens = await app.middleware.clientCredentials({ audience: 'https://api.example.com' });
        res.json({ idToken: req.oidc.idToken, accessToken: req.oidc.accessToken?.access_token, refreshToken: req.oidc.refreshToken });
      } catch (err) {
        next(err);
      }
    });
  });
});
afterAll(async () => {
  await app?.close();
  await op?.stop();
});

/** What pino's standard `err` serializer keeps (pino-std-serializers): type, messages and stacks with causes, every enumerable key. */
function loggerSerialised(value: unknown): string {
  if (!(value instanceof Error)) return JSON.stringify(value) ?? '';
  const out: Record<string, unknown> = { type: value.constructor.name };
  let message = value.message;
  let stack = value.stack ?? '';
  for (let cause = value.cause; cause instanceof Error; cause = cause.cause) {
    message += `: ${cause.message}`;
    stack += `\ncaused by: ${cause.stack ?? ''}`;
  }
  out.message = message;
  out.stack = stack;
  for (const key in value) if (out[key] === undefined) out[key] = (value as unknown as Record<string, unknown>)[key];
  return JSON.stringify(out);
}

const printings: Array<[string, (value: unknown) => string]> = [
  ['util.inspect', (v) => inspect(v, { depth: Infinity })],
  ['JSON.stringify', (v) => JSON.stringify(v) ?? ''],
  ['String()', (v) => String(v)],
  ["a logger's serialiser", loggerSerialised],
];

test('every class that holds a token, code, secret or cookie prints none of them', async () => {
  const browser = new Browser();
  const landed = await op.signIn(browser, `${app.url}/login`);
  expect(landed.status).toBe(200);
  const code = landed.redirects.map((u) => new URL(u).searchParams.get('code')).find((c) => c !== null) as string;
  const tokens = JSON.parse((await browser.get(`${app.url}/capture`)).body) as Record<string, string>;
  const sessionCookie = browser.cookies.get('appSession')?.value as string;

  // An MFA answer from the OP (bob has MFA on): AuthClient's error holds the MFA token, the
  // password route's holds the pending login's handle (the MFA token stays on the server).
  const mfa = (await app.middleware.client.loginWithPassword({ username: USERS.bob.username, password: USERS.bob.password }).catch((err: unknown) => err)) as MfaRequiredError;
  expect(mfa).toBeInstanceOf(MfaRequiredError);
  expect(mfa.mfaToken.length).toBeGreaterThan(10);
  await browser.post(`${app.url}/login/password`, { username: USERS.bob.username, password: USERS.bob.password });
  const pending = app.errors.find((e): e is MfaPendingError => e instanceof MfaPendingError) as MfaPendingError;
  expect(pending.pendingLogin.length).toBeGreaterThan(10);

  const secrets: Record<string, string> = {
    'cookie secret': APP_SECRET,
    'client secret': TEST_CLIENT_SECRET,
    'authorization code': code,
    'ID token': tokens.idToken as string,
    'access token': tokens.accessToken as string,
    'refresh token': tokens.refreshToken as string,
    'session cookie': decodeURIComponent(sessionCookie),
    'session id': decodeURIComponent(sessionCookie).slice(2, decodeURIComponent(sessionCookie).indexOf('.')),
    'MFA token': mfa.mfaToken,
    'pending login handle': pending.pendingLogin,
    'machine token': (captured.machineTokens as { accessToken: string }).accessToken,
    'redis password': 'redis-password-that-must-not-print',
  };
  for (const [what, value] of Object.entries(secrets)) expect([what, typeof value === 'string' && value.length > 10]).toEqual([what, true]);

  const redis = { password: secrets['redis password'], options: { password: secrets['redis password'] } } as unknown as RedisClientLike;
  const config = getConfig({ issuerBaseURL: op.issuer, baseURL: app.url, clientID: 'test-client', clientSecret: TEST_CLIENT_SECRET, secret: APP_SECRET }, {});
  const store = new MemoryStore();
  await new Promise<void>((resolve) => store.set('sid-1', { cookie: {}, oidc: { id_token: secrets['ID token'], refresh_token: secrets['refresh token'] } } as never, () => resolve()));
  const keyPair = await generateKeyPair('ES256', { extractable: true });
  const dpop = DPoPKey.fromKeyPair(keyPair);
  const lock = new MemoryRefreshLock();
  await lock.acquire(secrets['session id'] as string, 10_000);
  const index = new MemoryLogoutIndex();
  await index.add(['sub:alice'], secrets['session id'] as string, 60);
  const client = new AuthClient({ issuerBaseURL: op.issuer, clientID: 'test-client', clientSecret: TEST_CLIENT_SECRET });
  await client.serverMetadata();

  const objects: Record<string, unknown> = {
    'auth() middleware': app.middleware,
    config: app.middleware.config,
    'getConfig()': config,
    AuthClient: client,
    'AuthClient of auth()': app.middleware.client,
    RequestContext: captured.requestContext,
    AccessToken: captured.accessToken,
    'TokenSet (machine to machine)': captured.machineTokens,
    'session store of auth()': captured.sessionStore,
    MemoryStore: store,
    GuardedStore: new GuardedStore(store, 1_000),
    TransactionCookies: new TransactionCookies(config),
    Sessions: new Sessions(config),
    Refresher: new Refresher(config, client),
    DPoPKey: dpop,
    MemoryRefreshLock: lock,
    RedisRefreshLock: new RedisRefreshLock(redis),
    MemoryLogoutIndex: index,
    RedisLogoutIndex: new RedisLogoutIndex(redis),
    MfaRequiredError: mfa,
    MfaPendingError: pending,
    'OidcError with a cause holding a session': new OidcError('ERR_SESSION_STORE_UNAVAILABLE', 'the session store is unavailable', {
      status: 503,
      cause: Object.assign(new Error('ERR wrong type'), { command: { name: 'set', args: [`sess:${secrets['session id']}`, JSON.stringify({ refresh_token: secrets['refresh token'] })] } }),
    }),
  };

  const leaks: string[] = [];
  for (const [name, object] of Object.entries(objects)) {
    expect([name, object]).not.toEqual([name, undefined]);
    for (const [printing, print] of printings) {
      let text: string;
      try {
        text = print(object);
      } catch {
        continue; // a printing that throws (a circular structure) prints nothing
      }
      for (const [what, value] of Object.entries(secrets)) if (text.includes(value)) leaks.push(`${printing}(${name}) prints the ${what}`);
    }
  }
  expect(leaks).toEqual([]);
  // The values are still there for the code that needs them.
  expect((captured.accessToken as { access_token: string }).access_token).toBe(secrets['access token']);
  expect((captured.machineTokens as { accessToken: string }).accessToken).toBe(secrets['machine token']);
  expect(app.middleware.config.secret).toEqual([APP_SECRET]);
  expect(app.middleware.config.clientSecret).toBe(TEST_CLIENT_SECRET);
});
