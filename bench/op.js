/**
 * The benchmark's OpenID Provider: oidc-provider on 127.0.0.1, in its own
 * process, with one confidential client and one user. run.js forks it.
 *
 * The provider is built only once the apps are listening, because the
 * client's redirect URIs name the apps' ports:
 *   parent -> { id, type: 'configure', redirectUris }  builds the provider
 *   parent -> { id, type: 'counts' }                     requests the apps sent, by path
 *   parent -> { id, type: 'reset' }                      zeroes those counts
 *   parent -> { id, type: 'stop' }                       closes and exits
 * It sends { type: 'ready', port } once listening and answers each message
 * with { id, ok, value | error }.
 *
 * Requests carrying the bench browser's User-Agent are the user's own
 * (authorization endpoint, login form); everything else comes from an app
 * and is counted.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import { BROWSER_USER_AGENT, CLIENT_ID, CLIENT_SECRET, USER } from './fixtures.js';
import { serveParent } from './ipc.js';

// oidc-provider prints notices about the runtime and its development defaults; they are noise here.
for (const method of ['info', 'warn']) {
  const original = console[method].bind(console);
  console[method] = (...args) => {
    if (!(typeof args[0] === 'string' && args[0].includes('oidc-provider'))) original(...args);
  };
}
const { default: Provider } = await import('oidc-provider');

/** Timed key-value storage for oidc-provider's models, with the lookups it needs. */
class Storage {
  #entries = new Map();
  #byGrant = new Map();
  #byUid = new Map();

  constructor() {
    setInterval(() => this.#prune(), 10_000).unref();
  }

  adapter() {
    const storage = this;
    return class Adapter {
      constructor(model) {
        this.model = model;
      }
      async upsert(id, payload, expiresIn) {
        const key = `${this.model}:${id}`;
        storage.#entries.set(key, { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : Infinity });
        if (payload.grantId) {
          let keys = storage.#byGrant.get(payload.grantId);
          if (!keys) storage.#byGrant.set(payload.grantId, (keys = new Set()));
          keys.add(key);
        }
        if (this.model === 'Session' && payload.uid) storage.#byUid.set(payload.uid, key);
      }
      async find(id) {
        return storage.#read(`${this.model}:${id}`);
      }
      async findByUid(uid) {
        const key = storage.#byUid.get(uid);
        return key === undefined ? undefined : storage.#read(key);
      }
      async findByUserCode() {
        return undefined;
      }
      async consume(id) {
        const entry = storage.#entries.get(`${this.model}:${id}`);
        if (entry) entry.payload = { ...entry.payload, consumed: Math.floor(Date.now() / 1000) };
      }
      async destroy(id) {
        storage.#entries.delete(`${this.model}:${id}`);
      }
      async revokeByGrantId(grantId) {
        for (const key of storage.#byGrant.get(grantId) ?? []) storage.#entries.delete(key);
        storage.#byGrant.delete(grantId);
      }
    };
  }

  #read(key) {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return structuredClone(entry.payload);
  }

  #prune() {
    const now = Date.now();
    for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(key);
    for (const [grantId, keys] of this.#byGrant) {
      for (const key of keys) if (!this.#entries.has(key)) keys.delete(key);
      if (keys.size === 0) this.#byGrant.delete(grantId);
    }
    for (const [uid, key] of this.#byUid) if (!this.#entries.has(key)) this.#byUid.delete(uid);
  }
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > 64 * 1024) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendHtml(res, status, html) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

const loginPage = (uid) =>
  `<!DOCTYPE html><title>Sign in</title><form method="post" action="/interaction/${encodeURIComponent(uid)}/login">` +
  '<input name="username"><input name="password" type="password"><button>Sign in</button></form>';

async function providerConfiguration(redirectUris, storage) {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: 'bench-rs256', alg: 'RS256', use: 'sig' };
  return {
    adapter: storage.adapter(),
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: redirectUris,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    findAccount: (_ctx, sub) =>
      sub === USER.sub ? { accountId: sub, claims: () => ({ ...USER.claims }) } : undefined,
    claims: {
      openid: ['sub'],
      profile: ['name', 'nickname', 'preferred_username'],
      email: ['email', 'email_verified'],
    },
    // The profile and email claims go into the ID token, as Auth0 does.
    conformIdTokenClaims: false,
    // A refresh token for every code exchange: sessions carry one, as apps that call APIs have.
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      pushedAuthorizationRequests: { enabled: true },
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    ttl: { AccessToken: 3600, IdToken: 3600, RefreshToken: 86_400, AuthorizationCode: 60, Interaction: 600, Session: 86_400, Grant: 86_400 },
  };
}

/** The login form, checked credentials, and consent granted without a page (the user always agrees). */
async function handleInteraction(provider, req, res, path) {
  const match = /^\/interaction\/([^/]+)(\/login)?$/.exec(path);
  if (!match) return sendHtml(res, 404, 'not found');
  const details = await provider.interactionDetails(req, res);
  const { prompt, params } = details;
  if (req.method === 'POST' && match[2]) {
    const form = new URLSearchParams(await readBody(req));
    if (form.get('username') !== USER.username || form.get('password') !== USER.password) return sendHtml(res, 200, loginPage(match[1]));
    return provider.interactionFinished(req, res, { login: { accountId: USER.sub } }, { mergeWithLastSubmission: false });
  }
  if (prompt.name === 'login') return sendHtml(res, 200, loginPage(match[1]));
  if (prompt.name !== 'consent') return sendHtml(res, 400, `unexpected prompt ${prompt.name}`);
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: details.session.accountId, clientId: String(params.client_id) });
  if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
  if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  const grantId = await grant.save();
  return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

const storage = new Storage();
const counts = new Map();
let provider;
let callback;

const server = http.createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://op.invalid').pathname;
  if (req.headers['user-agent'] !== BROWSER_USER_AGENT) counts.set(path, (counts.get(path) ?? 0) + 1);
  const handled = callback === undefined
    ? Promise.resolve(sendHtml(res, 503, 'not configured'))
    : path.startsWith('/interaction/')
      ? handleInteraction(provider, req, res, path)
      : Promise.resolve(callback(req, res));
  handled.catch((err) => {
    console.error('bench OP: request failed:', err);
    if (res.headersSent) res.destroy();
    else sendHtml(res, 500, 'server error');
  });
});
server.keepAliveTimeout = 30_000;
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

serveParent({
  async configure({ redirectUris }) {
    provider = new Provider(issuer, await providerConfiguration(redirectUris, storage));
    provider.on('server_error', (_ctx, err) => console.error('bench OP: server_error:', err));
    callback = provider.callback();
    await provider.Client.find(CLIENT_ID); // surfaces a client metadata mistake now
  },
  counts: () => Object.fromEntries(counts),
  reset: () => counts.clear(),
  stop: () => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }),
}, { port });
