/**
 * Glewlwyd 2.7 (an OpenID-certified OP written in C, packaged by Debian) as a second, independent
 * test OP. `startGlewlwyd()` runs the real binary on 127.0.0.1 on a free port, with its own sqlite
 * database in a fresh temp folder, and configures it through its admin API. `stop()` ends it by pid.
 *
 * Missing binaries are a failure that names the install command, never a skip.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { exportJWK, generateKeyPair } from 'jose';
import type { Browser, BrowserResponse } from '../helpers/browser.js';
import { freePort } from '../helpers/app.js';

export const INSTALL_HINT = 'apt-get install -y glewlwyd sqlite3';

/** Debian's binary; GLEWLWYD_BINARY points elsewhere (the harness test points it at nothing). */
const binary = (): string => process.env.GLEWLWYD_BINARY ?? '/usr/bin/glewlwyd';
const INIT_SCRIPTS = [
  '/usr/share/doc/glewlwyd/database/init.sqlite3.sql.gz',
  '/usr/share/doc/glewlwyd/database/init.sqlite3.sql',
  '/usr/share/glewlwyd/database/init.sqlite3.sql',
];
const ADMIN = { username: 'admin', password: 'password' };

/** The end user every interop test signs in as. */
export const GLEWLWYD_USER = { username: 'alice', password: 'alice-password-1234', name: 'Alice Interop', email: 'alice@example.com' };

/** Scopes created at start; the user may grant all of them. */
export const GLEWLWYD_SCOPES = ['openid', 'profile', 'email', 'offline_access', 'api'];

export interface GlewlwydClient {
  client_id: string;
  client_secret?: string;
  redirect_uri?: string[];
  post_logout_redirect_uris?: string[];
  backchannel_logout_uri?: string;
  /** default: code, refresh_token, client_credentials, password, delete_token */
  authorization_type?: string[];
  /** default: client_secret_basic, client_secret_post */
  token_endpoint_auth_method?: string[];
  /** scopes of the client itself (client_credentials) */
  scope?: string[];
  enabled?: boolean;
}

export interface GlewlwydServer {
  /** http://127.0.0.1:<port> */
  url: string;
  /** Glewlwyd's own log (DEBUG), to show when a test fails. */
  logFile: string;
  /** Creates an OIDC plugin instance; returns its issuer URL (`<url>/api/<name>`). */
  addOidc(name: string, parameters?: Record<string, unknown>): Promise<string>;
  addClient(client: GlewlwydClient): Promise<void>;
  /** Calls the admin API as the admin user; throws on a non-2xx answer. */
  admin(method: string, apiPath: string, body?: unknown): Promise<unknown>;
  /** Runs one SQL query on Glewlwyd's database (sqlite3 CLI); returns its output, trimmed. */
  query(sql: string): string;
  /** The last lines of Glewlwyd's log. */
  logTail(lines?: number): Promise<string>;
  stop(): Promise<void>;
}

function requireTools(): void {
  const missing = [];
  if (!existsSync(binary())) missing.push('glewlwyd');
  if (spawnSync('sqlite3', ['-version']).status !== 0) missing.push('sqlite3');
  if (missing.length > 0) {
    throw new Error(`The Glewlwyd interop suite needs ${missing.join(' and ')}: run \`${INSTALL_HINT}\` (as root).`);
  }
}

async function initDatabase(dbFile: string): Promise<void> {
  const script = INIT_SCRIPTS.find((file) => existsSync(file));
  if (!script) throw new Error(`Glewlwyd's sqlite init script is missing (looked in ${INIT_SCRIPTS.join(', ')}): run \`${INSTALL_HINT}\`.`);
  const raw = await readFile(script);
  const sql = script.endsWith('.gz') ? gunzipSync(raw) : raw;
  const result = spawnSync('sqlite3', [dbFile], { input: sql });
  if (result.status !== 0) throw new Error(`sqlite3 could not create Glewlwyd's database: ${result.stderr.toString()}`);
}

function configFile(port: number, dir: string): string {
  // use_secure_connection is left out on purpose: set (even to false) without certificate paths,
  // Glewlwyd exits.
  return `port=${port}
bind_address="127.0.0.1"
external_url="http://127.0.0.1:${port}"
login_url="login.html"
api_prefix="api"
static_files_path="/usr/share/glewlwyd/webapp/"
allow_origin="*"
log_mode="file"
log_level="DEBUG"
log_file="${dir}/glewlwyd.log"
cookie_secure=0
cookie_same_site="empty"
session_expiration=3600
session_key="GLEWLWYD2_SESSION_ID"
admin_session_authentication="cookie"
profile_session_authentication="cookie"
allow_multiple_user_per_session=true
login_api_enabled=true
max_post_size=1048576
admin_scope="g_admin"
profile_scope="g_profile"
user_module_path="/usr/lib/glewlwyd/user"
client_module_path="/usr/lib/glewlwyd/client"
user_auth_scheme_module_path="/usr/lib/glewlwyd/scheme"
plugin_module_path="/usr/lib/glewlwyd/plugin"
hash_algorithm="SHA512"
database = { type = "sqlite3"; path = "${dir}/glewlwyd.db"; };
static_files_mime_types = (
  { extension = ".html"; mime_type = "text/html"; },
  { extension = ".js"; mime_type = "application/javascript"; },
  { extension = ".json"; mime_type = "application/json"; },
  { extension = ".css"; mime_type = "text/css"; }
);
`;
}

async function waitUntilListening(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`glewlwyd exited with ${child.exitCode}: ${output()}`);
    try {
      await fetch(`${url}/api/auth/scheme/`, { signal: AbortSignal.timeout(1_000) });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`glewlwyd did not listen on ${url} within 15 s: ${output()}`);
}

/** The signing key of every plugin instance: one RS256 key, made fresh per run. */
async function signingJwks(): Promise<{ jwks: string; kid: string }> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = `interop-rs256-${Date.now()}`;
  const jwk = { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
  return { jwks: JSON.stringify({ keys: [jwk] }), kid };
}

/** What every interop test needs from an OIDC plugin instance. */
function oidcParameters(issuer: string, key: { jwks: string; kid: string }): Record<string, unknown> {
  return {
    iss: issuer,
    'jwks-private': key.jwks,
    'default-kid': key.kid,
    'jwt-type': 'rsa',
    'jwt-key-size': '256',
    'access-token-duration': 3600,
    'refresh-token-duration': 86400,
    'code-duration': 600,
    // Rotation: every refresh token is used once.
    'refresh-token-rolling': true,
    'refresh-token-one-use': 'always',
    // Password and client credentials grants are "non-OIDC" to Glewlwyd: off, they get an empty 403.
    'allow-non-oidc': true,
    'auth-type-code-enabled': true,
    'auth-type-token-enabled': false,
    'auth-type-none-enabled': false,
    'auth-type-password-enabled': true,
    'auth-type-client-enabled': true,
    'auth-type-refresh-enabled': true,
    'auth-type-device-enabled': false,
    'auth-type-code-revoke-replayed': true,
    'subject-type': 'public',
    'allowed-scope': GLEWLWYD_SCOPES,
    'name-claim': 'on-demand',
    'name-claim-scope': ['profile'],
    'email-claim': 'on-demand',
    'email-claim-scope': ['email'],
    'pkce-allowed': true,
    'pkce-method-plain-allowed': false,
    'introspection-revocation-allowed': true,
    'introspection-revocation-auth-scope': [],
    'introspection-revocation-allow-target-client': true,
    'session-management-allowed': true,
    'session-cookie-name': 'GLEWLWYD2_OIDC_SID',
    'session-cookie-expiration': 3600,
    'front-channel-logout-allowed': false,
    'back-channel-logout-allowed': true,
    'oauth-par-allowed': true,
    'oauth-par-required': false,
    'oauth-par-request_uri-prefix': 'urn:ietf:params:oauth:request_uri:',
    'oauth-par-duration': 90,
    'oauth-dpop-allowed': true,
    'oauth-dpop-iat-duration': 60,
    // RFC 9207: `iss` in every authorization response.
    'oauth-as-iss-id': true,
  };
}

/**
 * Starts Glewlwyd with a fresh database: the scopes of `GLEWLWYD_SCOPES`, the user `GLEWLWYD_USER`,
 * and a client module that keeps `post_logout_redirect_uris` (the packaged data format drops it).
 */
export async function startGlewlwyd(): Promise<GlewlwydServer> {
  requireTools();
  const dir = await mkdtemp(path.join(tmpdir(), 'glewlwyd-'));
  await initDatabase(path.join(dir, 'glewlwyd.db'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const confPath = path.join(dir, 'glewlwyd.conf');
  await writeFile(confPath, configFile(port, dir));
  const logFile = path.join(dir, 'glewlwyd.log');

  let output = '';
  const child = spawn(binary(), [`--config-file=${confPath}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.pid !== undefined) {
      process.kill(child.pid, 'SIGTERM');
      const timer = setTimeout(() => child.exitCode === null && child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), 3_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await waitUntilListening(url, child, () => output);
    const adminCookie = await login(url, ADMIN.username, ADMIN.password);
    const admin = async (method: string, apiPath: string, body?: unknown): Promise<unknown> => {
      const res = await fetch(`${url}/api${apiPath}`, {
        method,
        headers: { cookie: adminCookie, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`Glewlwyd admin API ${method} ${apiPath}: ${res.status} ${text}`);
      return text ? (JSON.parse(text) as unknown) : undefined;
    };

    // The OIDC plugin reads `post_logout_redirect_uris`; the packaged data format lacks it and
    // unknown client properties are dropped silently.
    const modules = (await admin('GET', '/mod/client/')) as Array<{ name: string; parameters: { 'data-format': Record<string, unknown> } }>;
    const database = modules.find((m) => m.name === 'database');
    if (!database) throw new Error('Glewlwyd has no "database" client module');
    database.parameters['data-format'].post_logout_redirect_uris = { multiple: true, read: true, write: true };
    database.parameters['data-format'].scope = { multiple: true, read: true, write: true };
    await admin('PUT', '/mod/client/database', database);
    // The running instance keeps its old data format until it is restarted.
    await admin('PUT', '/mod/client/database/disable');
    await admin('PUT', '/mod/client/database/enable');

    for (const name of GLEWLWYD_SCOPES.filter((s) => s !== 'openid')) {
      await admin('POST', '/scope/', { name, display_name: name, description: name, password_required: false, scheme: {} });
    }
    await admin('POST', '/user/', { ...GLEWLWYD_USER, enabled: true, scope: GLEWLWYD_SCOPES });

    const key = await signingJwks();
    return {
      url,
      logFile,
      admin,
      stop,
      query: (sql) => {
        const result = spawnSync('sqlite3', [path.join(dir, 'glewlwyd.db'), sql]);
        if (result.status !== 0) throw new Error(`sqlite3: ${result.stderr.toString()}`);
        return result.stdout.toString().trim();
      },
      logTail: async (lines = 40) => {
        try {
          return (await readFile(logFile, 'utf8')).split('\n').slice(-lines).join('\n');
        } catch {
          return '(no log)';
        }
      },
      addOidc: async (name, parameters = {}) => {
        const issuer = `${url}/api/${name}`;
        await admin('POST', '/mod/plugin/', {
          module: 'oidc',
          name,
          display_name: name,
          enabled: true,
          parameters: { ...oidcParameters(issuer, key), ...parameters },
        });
        return issuer;
      },
      addClient: async (client) => {
        await admin('POST', '/client/', {
          name: client.client_id,
          confidential: client.client_secret !== undefined,
          enabled: true,
          authorization_type: ['code', 'refresh_token', 'client_credentials', 'password', 'delete_token'],
          token_endpoint_auth_method: ['client_secret_basic', 'client_secret_post'],
          scope: [],
          redirect_uri: [],
          ...client,
        });
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** `POST /api/auth` with a password; returns the Cookie header of the Glewlwyd session. */
async function login(url: string, username: string, password: string): Promise<string> {
  const res = await fetch(`${url}/api/auth/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (!res.ok) throw new Error(`Glewlwyd login as ${username} failed: ${res.status}`);
  return res.headers
    .getSetCookie()
    .map((cookie) => cookie.split(';')[0])
    .join('; ');
}

/**
 * Signs `GLEWLWYD_USER` in the way Glewlwyd's `login.html` does: starting at `startUrl` (the app's
 * `/login`), it follows redirects to the login page, posts the password to `/api/auth`, grants the
 * scopes with `PUT /api/auth/grant/<client_id>`, then follows the authorization URL with `g_continue`
 * back to the app. Returns the app's final response.
 */
export async function signInAtGlewlwyd(browser: Browser, startUrl: string, options: { follow?: boolean } = {}): Promise<BrowserResponse> {
  const page = await toLoginPage(browser, startUrl);
  const loginUrl = new URL(page.url);
  const clientId = loginUrl.searchParams.get('client_id');
  const scope = loginUrl.searchParams.get('scope');
  const callbackUrl = loginUrl.searchParams.get('callback_url');
  if (!clientId || scope === null || !callbackUrl) throw new Error(`unexpected Glewlwyd login page ${page.url}`);
  const origin = loginUrl.origin;

  const auth = await browser.post(`${origin}/api/auth/`, JSON.stringify({ username: GLEWLWYD_USER.username, password: GLEWLWYD_USER.password }), {
    contentType: 'application/json',
  });
  if (auth.status !== 200) throw new Error(`Glewlwyd refused the password: ${auth.status} ${auth.body}`);
  await grantScopes(browser, origin, clientId, scope);

  const next = new URL(callbackUrl, origin);
  next.searchParams.set('g_continue', '');
  return browser.get(next.href, { follow: options.follow ?? true });
}

/** Follows redirects from `startUrl` until Glewlwyd's login page. */
export async function toLoginPage(browser: Browser, startUrl: string): Promise<BrowserResponse> {
  const page = await browser.get(startUrl);
  if (!new URL(page.url).pathname.endsWith('/login.html')) {
    throw new Error(`expected Glewlwyd's login page, got ${page.status} ${page.url}: ${page.body.slice(0, 300)}`);
  }
  return page;
}

/** What `login.html` does when the user accepts: the grant (space-separated, whatever API.md says). */
async function grantScopes(browser: Browser, origin: string, clientId: string, scope: string): Promise<void> {
  const res = await browserFetch(browser, 'PUT', `${origin}/api/auth/grant/${encodeURIComponent(clientId)}`, { scope });
  if (!res.ok) throw new Error(`Glewlwyd refused the grant of "${scope}" to ${clientId}: ${res.status}`);
}

/**
 * What Glewlwyd's logout page does after the app sent the browser to `end_session_endpoint`: from
 * the login page it was redirected to (`prompt=end_session`), ends the OIDC session (which sends the back-channel logout tokens and disables the session's tokens), ends
 * the Glewlwyd session, then follows `callback_url` (the post_logout_redirect_uri) back to the app.
 */
export async function endSessionAtGlewlwyd(browser: Browser, logoutPage: BrowserResponse): Promise<BrowserResponse> {
  const page = new URL(logoutPage.url);
  if (!page.pathname.endsWith('/login.html')) throw new Error(`expected Glewlwyd's logout page, got ${logoutPage.status} ${logoutPage.url}`);
  const sid = page.searchParams.get('sid');
  const plugin = page.searchParams.get('plugin');
  const back = page.searchParams.get('callback_url');
  if (!sid || !plugin) throw new Error(`Glewlwyd's logout page lacks sid or plugin: ${logoutPage.url}`);
  const api = `${page.origin}/api`;
  await deleteGlewlwydSession(browser, page.origin, plugin, sid);
  const signOut = await browserFetch(browser, 'DELETE', `${api}/auth/`);
  if (signOut.status !== 200) throw new Error(`Glewlwyd sign-out: ${signOut.status}`);
  if (!back) return logoutPage;
  return browser.get(back);
}

/** Ends the OIDC session `sid` at Glewlwyd, as its logout page does (back-channel logout follows). */
export async function deleteGlewlwydSession(browser: Browser, origin: string, plugin: string, sid: string): Promise<void> {
  const res = await browserFetch(browser, 'DELETE', `${origin}/api/${plugin}/session/${sid}`);
  if (res.status !== 200) throw new Error(`Glewlwyd refused to end session ${sid}: ${res.status}`);
}

/** A request with the browser's cookies, for the verbs the test browser lacks (PUT, DELETE). */
async function browserFetch(browser: Browser, method: string, url: string, body?: unknown): Promise<Response> {
  const target = new URL(url);
  const cookie = browser.cookies.headerFor(target);
  const res = await fetch(target, {
    method,
    headers: { ...(cookie ? { cookie } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  for (const setCookie of res.headers.getSetCookie()) browser.cookies.setFromHeader(setCookie, target);
  await res.arrayBuffer();
  return res;
}
