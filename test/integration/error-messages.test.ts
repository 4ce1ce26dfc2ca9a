/**
 * Errors that say what to fix, tried the way a new user misconfigures an app: each names what
 * happened and what to change, the user gets the right status (a non-exposed 5xx for the app's
 * misconfiguration), the developer's error keeps every detail, and no secret, token, code or
 * cookie value reaches the message or the debug log.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { format } from 'node:util';
import createDebug from 'debug';
import { auth, OidcError } from '../../src/index.js';
import { Browser } from '../helpers/browser.js';
import { APP_SECRET, freePort, startApp, type TestApp } from '../helpers/app.js';
import { authorizeUntilCallback, clientsFor, deliver, errorBody, freePorts, whoAmI } from '../helpers/flow.js';
import { createTestOP, TEST_CLIENT_SECRET, USERS, type TestOP } from '../helpers/op.js';

const WRONG_SECRET = 'not-the-client-secret-of-test-client-0000';

let op: TestOP;
/** The apps that sign in: the test OP knows their callback URLs. */
let loginPorts: number[];
const lines: string[] = [];
const originalLog = createDebug.log;
let previouslyEnabled = '';
const apps: TestApp[] = [];

beforeAll(async () => {
  previouslyEnabled = createDebug.disable();
  createDebug.enable('express-oidc:*');
  createDebug.log = (...args: unknown[]) => {
    lines.push(format(...args));
  };
  loginPorts = await freePorts(2);
  op = await createTestOP({ clients: clientsFor(loginPorts.map((port) => `http://127.0.0.1:${port}`)) });
});

afterAll(async () => {
  for (const app of apps) await app.close();
  await op?.stop();
  createDebug.log = originalLog;
  createDebug.disable();
  if (previouslyEnabled) createDebug.enable(previouslyEnabled);
});

async function appAt(issuer: string, options: Parameters<typeof startApp>[2] = {}, port?: number): Promise<TestApp> {
  port ??= await freePort();
  const app = await startApp(issuer, port, options);
  apps.push(app);
  return app;
}

/** Every secret-like value the test knows, plus the browser's cookies. */
function expectNoSecrets(texts: string[], browser?: Browser, extra: string[] = []): void {
  const secrets = [TEST_CLIENT_SECRET, WRONG_SECRET, APP_SECRET, USERS.alice.password, ...extra];
  for (const cookie of browser?.cookies.all() ?? []) if (cookie.value.length >= 8) secrets.push(cookie.value);
  for (const text of texts) for (const secret of secrets) expect(text).not.toContain(secret);
}

async function rejection(promise: Promise<unknown>): Promise<OidcError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(OidcError);
    return err as OidcError;
  }
  throw new Error('expected a rejection');
}

test('wrong issuer path: the discovery URL, the HTTP status and the option to change; the user gets a non-exposed 502', async () => {
  const issuer = `${op.issuer}/tenant-typo`;
  const app = await appAt(issuer);
  const err = await rejection(app.middleware.ready());
  expect(err.code).toBe('ERR_DISCOVERY_FAILED');
  expect(err.message).toContain(`${issuer}/.well-known/openid-configuration answered HTTP 404`);
  expect(err.message).toContain(`check issuerBaseURL ("${issuer}")`);
  expect(err.opStatus).toBe(404);
  expect(err.url).toBe(`${issuer}/.well-known/openid-configuration`);
  expect(err.cause).toBeInstanceOf(OidcError);

  const res = await new Browser().get(`${app.url}/login`, { follow: false });
  expect(res.status).toBe(502);
  const seen = app.errors.at(-1) as OidcError;
  expect(seen.expose).toBe(false);
  expect(seen.message).toBe(err.message);
  expectNoSecrets([err.message, format(err), ...lines]);
});

test('OP unreachable (nothing listens): ECONNREFUSED and the URL are kept', async () => {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const app = await appAt(issuer);
  const err = await rejection(app.middleware.ready());
  expect(err.code).toBe('ERR_OP_UNREACHABLE');
  expect(err.status).toBe(502);
  expect(err.message).toContain(`could not be reached at ${issuer}/.well-known/openid-configuration (ECONNREFUSED)`);
  expect(err.message).toContain('check issuerBaseURL');
  expect((err.cause as OidcError).cause).toMatchObject({ code: 'ECONNREFUSED' });

  const res = await new Browser().get(`${app.url}/login`, { follow: false });
  expect(res.status).toBe(502);
  expect((app.errors.at(-1) as OidcError).expose).toBe(false);
  expectNoSecrets([err.message, format(err), ...lines]);
});

test('OP host unknown: the resolver\'s error (ENOTFOUND) is kept', async () => {
  const middleware = auth({
    issuerBaseURL: 'https://op.example.invalid',
    baseURL: 'http://127.0.0.1:3000',
    clientID: 'test-client',
    clientSecret: TEST_CLIENT_SECRET,
    secret: APP_SECRET,
    authRequired: false,
    httpTimeout: 4_000,
  });
  const err = await rejection(middleware.ready());
  expect(err.code).toBe('ERR_OP_UNREACHABLE');
  // ENOTFOUND where DNS answers; EAI_AGAIN on a machine without a resolver.
  expect(err.message).toMatch(/could not be reached at https:\/\/op\.example\.invalid\/\.well-known\/openid-configuration \((ENOTFOUND|EAI_AGAIN)\)/);
  expectNoSecrets([err.message, format(err)]);
});

test('ready() resolves once discovery and the JWKS are loaded', async () => {
  const app = await appAt(op.issuer);
  const jwksBefore = op.counts.jwks;
  await expect(app.middleware.ready()).resolves.toBeUndefined();
  expect(op.counts.jwks).toBe(jwksBefore + 1);
  // Loaded and fresh: a second call asks the OP nothing.
  await app.middleware.ready();
  expect(op.counts.jwks).toBe(jwksBefore + 1);
});

test('ready() rejects naming the JWKS URL when the keys cannot be loaded', async () => {
  // An HTTP stand-in for the OP: a real OP cannot be made to advertise a dead jwks_uri.
  const deadPort = await freePort();
  const server = http.createServer((req, res) => {
    const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ issuer, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token`, jwks_uri: `http://127.0.0.1:${deadPort}/jwks` }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const app = await appAt(issuer);
    const err = await rejection(app.middleware.ready());
    expect(err.code).toBe('ERR_OP_UNREACHABLE');
    expect(err.message).toBe(`JWKS: http://127.0.0.1:${deadPort}/jwks could not be reached (ECONNREFUSED); check that the OP's jwks_uri is reachable from this server`);
    expect(err.url).toBe(`http://127.0.0.1:${deadPort}/jwks`);
    expect(err.cause).toMatchObject({ cause: { code: 'ECONNREFUSED' } });
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('wrong client secret at /callback: a non-exposed 502 carrying the OP\'s error_description, not a 401 blaming the user', async () => {
  const app = await appAt(op.issuer, { clientSecret: WRONG_SECRET }, loginPorts[0]);
  const browser = new Browser();
  const delivery = await authorizeUntilCallback(browser, `${app.url}/login`);
  const code = delivery.method === 'GET' ? delivery.url.searchParams.get('code') : delivery.fields.get('code');
  const res = await deliver(browser, delivery);
  expect(res.status).toBe(502);
  expect(errorBody(res)?.code).toBe('ERR_OP_ERROR');
  const err = app.errors.at(-1) as OidcError;
  expect(err.expose).toBe(false);
  expect(err.error).toBe('invalid_client');
  expect(err.opStatus).toBe(401);
  expect(err.errorDescription).toEqual(expect.any(String));
  expect(err.message).toContain(`the OP answered "invalid_client" (HTTP 401) at ${op.issuer}/token: ${err.errorDescription}`);
  expect(err.message).toContain('check clientID, clientSecret and clientAuthMethod');
  expect(err.cause).toBeInstanceOf(OidcError);
  expect((await whoAmI(browser, app.url)).authenticated).toBe(false);
  expectNoSecrets([err.message, format(err), res.body, ...lines], browser, [code ?? 'no-code']);
});

test('a reloaded /callback after a finished login (the Back button) goes on to where the login was going', async () => {
  const app = await appAt(op.issuer, {}, loginPorts[1]);
  const browser = new Browser();
  const delivery = await authorizeUntilCallback(browser, `${app.url}/login?returnTo=/profile`);
  const first = await deliver(browser, delivery);
  expect(first.status).toBe(200);
  expect(first.url).toBe(`${app.url}/profile`);

  const again = await deliver(browser, delivery);
  expect(again.status).toBe(200);
  expect(again.url).toBe(`${app.url}/profile`);
  expect((await whoAmI(browser, app.url)).authenticated).toBe(true);

  // Without the session (another browser holding the same URL) it is still refused.
  const stranger = await deliver(new Browser(), delivery);
  expect(stranger.status).toBe(400);
  expect(errorBody(stranger)?.code).toBe('ERR_TRANSACTION_MISSING');
  expectNoSecrets([...lines], browser);
});
