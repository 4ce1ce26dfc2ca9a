/**
 * A real oidc-provider (v9) OpenID Provider, in-process on 127.0.0.1, configured to behave like
 * Auth0 where the library cares (audience, organization, password grants), for end-to-end tests.
 *
 * Request flow:  node http server -> handle() (counts, records token requests, audience->resource,
 * login/consent pages under /interaction/:uid) -> provider.callback() (koa) -> our koa middleware
 * (org bookkeeping, id_token tampering) -> oidc-provider's routes.
 */
import '../quiet.js'; // must stay first: silences oidc-provider's console notices

import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';

import { endSession } from './backchannel-logout.js';
import { resetCounts } from './counts.js';
import { requestListener } from './front.js';
import { rotateSigningKeys, signingKeys } from './keys.js';
import { installProvider } from './provider.js';
import { signIn } from './sign-in.js';
import { createState, currentProvider } from './state.js';
import type { TestOP, TestOPOptions } from './types.js';

export { DEFAULT_REALM, USERS, type TestUser } from '../users.js';
export type { default as Provider } from 'oidc-provider';
export {
  M2M_CLIENT_SECRET,
  PASSWORD_REALM_GRANT,
  POST_CLIENT_SECRET,
  TEST_CLIENT_ID,
  TEST_CLIENT_SECRET,
  defaultClients,
} from './clients.js';
export { DEFAULT_RESOURCE_SCOPE } from './state.js';
export * from './token-exchange.js';
export type * from './types.js';

export async function createTestOP(options: TestOPOptions = {}): Promise<TestOP> {
  const state = await createState(options);
  const { tls } = options;
  let server: http.Server | undefined;
  let mtlsServer: https.Server | undefined;
  let mtlsPort = 0;

  function listen(s: http.Server, port: number): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        s.off('error', reject);
        resolve((s.address() as AddressInfo).port);
      });
    });
  }

  function close(s: http.Server): Promise<void> {
    return new Promise<void>((resolve) => {
      s.close(() => resolve());
      // close() alone waits for keep-alive connections (e.g. fetch's pool) to go idle and time out;
      // destroy them so the OP is unreachable right away
      s.closeAllConnections();
    });
  }

  // --- lifecycle ----------------------------------------------------------------------------------
  async function start(): Promise<void> {
    if (server) return;
    const listener = requestListener(state);
    const s = tls ? https.createServer({ cert: tls.cert, key: tls.key }, listener) : http.createServer(listener);
    // the first start may have asked for any free port: keep it for later restarts
    state.port = await listen(s, state.port);
    server = s;
    if (tls?.mtls) {
      // asks every client for a certificate, verified against the test CA by tls_client_auth
      const m = https.createServer({ cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: true, rejectUnauthorized: false }, listener);
      mtlsPort = await listen(m, mtlsPort);
      mtlsServer = m;
    }
  }

  async function stop(): Promise<void> {
    const s = server;
    const m = mtlsServer;
    server = undefined;
    mtlsServer = undefined;
    await Promise.all([s ? close(s) : undefined, m ? close(m) : undefined]);
  }

  if (options.autoStart === false && state.port === 0) {
    // the issuer (and so the port) must be known before the Provider is built
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    state.port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  }
  if (options.autoStart !== false) await start();
  state.issuer = `${tls ? 'https' : 'http'}://127.0.0.1:${state.port}`;
  if (tls?.mtls) state.mtlsOrigin = `https://127.0.0.1:${mtlsPort}`;
  try {
    await installProvider(state);
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    get issuer() {
      return state.issuer;
    },
    get port() {
      return state.port;
    },
    get mtlsOrigin() {
      return state.mtlsOrigin;
    },
    appBaseURL: state.appBaseURL,
    get provider() {
      return currentProvider(state);
    },
    store: state.store,
    start,
    stop,
    counts: state.counts,
    tokenRequests: state.tokenRequests,
    backchannelLogouts: state.backchannelLogouts,
    serverErrors: state.serverErrors,
    mfa: {
      issued: state.mfa.issued,
      oob: state.mfa.oob,
      challenges: state.mfa.challenges,
      expireAll() {
        for (const record of state.mfa.tokens.values()) record.expiresAt = 0;
      },
    },
    resetCounts() {
      resetCounts(state);
    },
    tamperIdToken(fn) {
      state.tamperer = fn;
    },
    async rotateKeys(opts = {}) {
      // oidc-provider builds its keystore once, in the Provider constructor, and has no API to change
      // it. So: new keys, then a new Provider with the same adapter store, clients, cookie keys
      // (sessions stay valid) and DPoP nonce secret, which takes over the request handler.
      await rotateSigningKeys(state, opts.keepPrevious === true);
      await installProvider(state);
    },
    signingKeys() {
      return signingKeys(state);
    },
    signIn(browser, startUrl, user, opts) {
      return signIn(state, browser, startUrl, user, opts);
    },
    endSession(browser) {
      return endSession(state, browser);
    },
  };
}
