import * as oidc from 'openid-client';
import { createRemoteJWKSet, customFetch, type JWTVerifyGetKey } from 'jose';
import { debug } from '../debug.js';
import { OidcError } from '../errors.js';
import { toOidcError } from './errors.js';
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
  #keys: { uri: string; keys: JWTVerifyGetKey } | undefined;

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

  async #fetch(): Promise<ServerState> {
    const { issuerBaseURL, clientID, timeout, insecure } = this.#options;
    let metadata: oidc.ServerMetadata;
    const started = performance.now();
    try {
      const discovered = await oidc.discovery(new URL(issuerBaseURL), clientID, undefined, undefined, {
        timeout: timeout / 1000,
        ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}),
      });
      metadata = discovered.serverMetadata();
      opLog('discovery %d ms', since(started));
    } catch (err) {
      const cause = toOidcError(err, 'discovery');
      opLog.warn('discovery failed after %d ms (%s)', since(started), cause.code);
      log('discovery failed: %s', cause.message);
      throw new OidcError(cause.code === 'ERR_OP_UNREACHABLE' ? 'ERR_OP_UNREACHABLE' : 'ERR_DISCOVERY_FAILED', cause.message, {
        status: cause.status >= 500 ? cause.status : 502,
      });
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
          [customFetch]: timed(fetch, metadata),
        }),
      };
    }
    return { metadata, keys: this.#keys.keys, jwksUri: metadata.jwks_uri };
  }
}
