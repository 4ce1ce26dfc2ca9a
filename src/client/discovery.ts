import * as oidc from 'openid-client';
import { createRemoteJWKSet, customFetch as joseCustomFetch, type JWTVerifyGetKey } from 'jose';
import { debug } from '../debug.js';
import { OidcError } from '../errors.js';
import { toOidcError } from './errors.js';
import { boundedFetch, createFetch } from './http.js';
import type { CustomFetch } from './transport.js';
import { since, timed } from './timing.js';

const log = debug('client');
const opLog = debug('op');

/** What discovery yields: the OP's metadata and its signing keys. */
export interface ServerState {
  metadata: oidc.ServerMetadata;
  /** The OP's JWKS, fetched lazily and cached; an unknown `kid` refetches it at most once per cooldown. */
  keys: JWTVerifyGetKey;
  jwksUri: string;
}

export interface DiscoveryOptions {
  issuerBaseURL: string;
  clientID: string;
  /** Milliseconds each request may take. */
  timeout: number;
  /** Milliseconds discovery and the JWKS stay cached. */
  cacheMaxAge: number;
  /** Milliseconds before an unknown `kid` may refetch the JWKS again. */
  jwksCooldown: number;
  /** Allow http (loopback issuers only). */
  insecure: boolean;
  /** The app's `customFetch`, for discovery and the JWKS too. */
  fetch?: CustomFetch | undefined;
}

/**
 * The OP's discovery document and key set, cached for `cacheMaxAge`. A
 * failed attempt is forgotten at once, so the next request tries again.
 * Concurrent callers share one attempt.
 */
export class Discovery {
  readonly #options: DiscoveryOptions;
  #server: Promise<ServerState> | undefined;
  #serverFresh = 0;
  #keys: { uri: string; keys: ReturnType<typeof createRemoteJWKSet> } | undefined;

  constructor(options: DiscoveryOptions) {
    this.#options = options;
  }

  get(): Promise<ServerState> {
    if (this.#server !== undefined && Date.now() < this.#serverFresh) return this.#server;
    const attempt = this.#fetch();
    this.#server = attempt;
    this.#serverFresh = Number.POSITIVE_INFINITY;
    attempt.then(
      () => {
        if (this.#server === attempt) this.#serverFresh = Date.now() + this.#options.cacheMaxAge;
      },
      () => {
        if (this.#server === attempt) this.#server = undefined;
      },
    );
    return attempt;
  }

  /**
   * Discovery and the JWKS, loaded (from the cache when fresh). Rejects with an `OidcError`
   * saying which of the two failed and why.
   */
  async ready(): Promise<void> {
    const server = await this.get();
    const keys = this.#keys;
    if (keys === undefined || keys.keys.fresh) return;
    try {
      await keys.keys.reload();
    } catch (err) {
      const timedOut = err instanceof Error && err.name === 'JWKSTimeout';
      const reason = timedOut ? 'did not answer in time' : jwksFailure(err);
      const unreachable = timedOut || reason.startsWith('could not be reached');
      throw new OidcError(unreachable ? 'ERR_OP_UNREACHABLE' : 'ERR_DISCOVERY_FAILED', `JWKS: ${server.jwksUri} ${reason}; check that the OP's jwks_uri is reachable from this server`, {
        status: timedOut ? 504 : 502,
        url: server.jwksUri,
        // fetch's errors may come from another realm: kept by shape, not instanceof.
        ...(typeof err === 'object' && err !== null ? { cause: err } : {}),
      });
    }
  }

  async #fetch(): Promise<ServerState> {
    const { issuerBaseURL, clientID, timeout, insecure } = this.#options;
    const base = this.#options.fetch;
    let metadata: oidc.ServerMetadata;
    const started = performance.now();
    try {
      const discovered = await oidc.discovery(new URL(issuerBaseURL), clientID, undefined, undefined, {
        timeout: timeout / 1000,
        [oidc.customFetch]: createFetch(timeout, undefined, undefined, base),
        ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}),
      });
      metadata = discovered.serverMetadata();
      opLog('discovery %d ms', since(started));
    } catch (err) {
      const cause = toOidcError(err, 'discovery');
      opLog.warn('discovery failed after %d ms (%s)', since(started), cause.code);
      log('discovery failed: %s', cause.message);
      throw discoveryFailed(cause, issuerBaseURL);
    }
    if (!metadata.jwks_uri) throw new OidcError('ERR_DISCOVERY_FAILED', 'discovery: the OP advertises no jwks_uri', { status: 502 });
    log('discovered %s', metadata.issuer);
    // Keep the key set (and its cached keys) across rediscovery unless the URI changed.
    if (this.#keys?.uri !== metadata.jwks_uri) {
      this.#keys = {
        uri: metadata.jwks_uri,
        keys: createRemoteJWKSet(new URL(metadata.jwks_uri), {
          timeoutDuration: timeout,
          cooldownDuration: this.#options.jwksCooldown,
          cacheMaxAge: this.#options.cacheMaxAge,
          [joseCustomFetch]: timed(base === undefined ? fetch : (url: string, init: RequestInit) => boundedFetch(base, url, init, init.signal ?? AbortSignal.timeout(timeout)), metadata),
        }),
      };
    }
    return { metadata, keys: this.#keys.keys, jwksUri: metadata.jwks_uri };
  }
}

/**
 * Discovery failed: say what happened and what to change. The cause (the OP's status, the
 * network error) stays on the error for the developer; the app answers 5xx, never a 4xx.
 */
function discoveryFailed(cause: OidcError, issuerBaseURL: string): OidcError {
  const check = `check issuerBaseURL ("${issuerBaseURL}"): it must be the OP's issuer URL, under which /.well-known/openid-configuration is served`;
  const details = { cause, ...(cause.opStatus === undefined ? {} : { opStatus: cause.opStatus }), ...(cause.url === undefined ? {} : { url: cause.url }) };
  if (cause.code === 'ERR_OP_UNREACHABLE') {
    return new OidcError('ERR_OP_UNREACHABLE', `${cause.message}; ${check}, and that the OP is up`, { status: cause.status, ...details });
  }
  if (cause.opStatus !== undefined && cause.opStatus >= 400) {
    return new OidcError('ERR_DISCOVERY_FAILED', `discovery: ${cause.url ?? issuerBaseURL} answered HTTP ${cause.opStatus}; ${check}`, { status: 502, ...details });
  }
  return new OidcError('ERR_DISCOVERY_FAILED', `${cause.message}; ${check}`, { status: cause.status >= 500 ? cause.status : 502, ...details });
}

/** Why the JWKS did not load, from jose's error (its messages carry no key material). */
function jwksFailure(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown; cause?: { code?: unknown } } | undefined;
  const system = typeof e?.cause?.code === 'string' ? ` (${e.cause.code})` : '';
  if (typeof e?.message === 'string' && /fetch failed/i.test(e.message)) return `could not be reached${system}`;
  return `could not be loaded: ${typeof e?.message === 'string' ? e.message.slice(0, 200) : 'unexpected failure'}`;
}
