import { debug } from '../debug.js';
import { loggableCode, OidcError } from '../errors.js';
import type { AuthClient } from './auth-client.js';
import { untilAborted } from './abort.js';
import { abortedError } from './errors.js';
import { hideTokens, type TokenSet } from './token-set.js';

const log = debug('m2m');

/** Which machine-to-machine token to get: one per API and organization. */
export interface ClientCredentialsRequest {
  /** The API (Auth0 API identifier) the token is for. */
  audience: string;
  /** Organization name or `org_...` ID the token is issued in. */
  organization?: string;
}

export interface ClientCredentialsOptions {
  /**
   * Seconds before expiry at which a cached token is renewed (default 60).
   * A token that lives less than twice this long is renewed at half its lifetime.
   */
  leeway?: number;
  /** Most audience/organization pairs kept (default 100); the least recently stored go first. */
  maxEntries?: number;
}

interface Entry {
  /** Present while the OP is being asked; every caller waits on the same promise. */
  pending?: Promise<TokenSet>;
  tokens?: TokenSet;
  /** Epoch milliseconds from which the cached token is renewed. */
  renewAt: number;
  /** Epoch milliseconds at which the cached token expires. */
  expiresAt: number;
}

/**
 * Client Credentials tokens (machine to machine) for the app's own calls to
 * APIs, cached per `{ audience, organization }` until shortly before they
 * expire. However many callers ask at once, the OP gets one request per
 * audience and organization; a failure is handed to every waiting caller and
 * then forgotten, so the next call asks again.
 *
 * `auth()` builds one for its client (`middleware.clientCredentials()`,
 * `req.oidc.clientCredentials()`); standalone, wrap any `AuthClient`.
 *
 * @example
 * ```ts
 * const m2m = new ClientCredentials(new AuthClient({ issuerBaseURL, clientID, clientSecret }));
 * const { accessToken, tokenType } = await m2m.get({ audience: 'https://api.example.com' });
 * await fetch('https://api.example.com/orders', { headers: { authorization: `${tokenType} ${accessToken}` } });
 * ```
 */
export class ClientCredentials {
  readonly #client: AuthClient;
  readonly #leeway: number;
  readonly #maxEntries: number;
  readonly #entries = new Map<string, Entry>();

  constructor(client: AuthClient, options: ClientCredentialsOptions = {}) {
    const leeway = options.leeway ?? 60;
    const maxEntries = options.maxEntries ?? 100;
    if (!Number.isFinite(leeway) || leeway < 0) {
      throw new OidcError('ERR_CONFIG_INVALID', 'ClientCredentials: "leeway" must be a number of 0 or more', { status: 500 });
    }
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new OidcError('ERR_CONFIG_INVALID', 'ClientCredentials: "maxEntries" must be a whole number of 1 or more', { status: 500 });
    }
    this.#client = client;
    this.#leeway = leeway;
    this.#maxEntries = maxEntries;
  }

  /**
   * An access token for `audience` (and `organization`), from the cache while
   * it is fresh, else from the OP. `expiresIn` counts from now. An aborted
   * `signal` stops this caller waiting; the shared request goes on for the others.
   *
   * @example
   * ```ts
   * const token = await m2m.get({ audience: 'https://api.example.com', organization: 'org_123' });
   * ```
   */
  async get(request: ClientCredentialsRequest, options: { signal?: AbortSignal } = {}): Promise<TokenSet> {
    if (typeof request !== 'object' || request === null || typeof request.audience !== 'string' || request.audience.length === 0) {
      throw new OidcError('ERR_BAD_REQUEST', 'clientCredentials: "audience" is required', { status: 400 });
    }
    if (request.organization !== undefined && (typeof request.organization !== 'string' || request.organization.length === 0)) {
      throw new OidcError('ERR_BAD_REQUEST', 'clientCredentials: "organization" must be a non-empty string', { status: 400 });
    }
    const { signal } = options;
    if (signal?.aborted) throw abortedError(signal, 'clientCredentials');

    const key = JSON.stringify([request.audience, request.organization ?? null]);
    const now = Date.now();
    const entry = this.#entries.get(key);
    if (entry?.tokens !== undefined && now < entry.renewAt) return withRemainingLifetime(entry.tokens, entry.expiresAt, now);

    const pending = entry?.pending ?? this.#fetch(key, request);
    return untilAborted(pending, signal, 'clientCredentials');
  }

  /** Forgets every cached token (for instance after the client's secret was rotated). */
  clear(): void {
    this.#entries.clear();
  }

  #fetch(key: string, request: ClientCredentialsRequest): Promise<TokenSet> {
    const askedAt = Date.now();
    const pending = this.#client
      .loginWithClientCredentials({
        audience: request.audience,
        ...(request.organization === undefined ? {} : { organization: request.organization }),
      })
      .then(
        (tokens) => {
          const current = this.#entries.get(key);
          if (current?.pending !== pending) return tokens; // cleared meanwhile: hand out, do not keep
          if (tokens.expiresIn === undefined || tokens.expiresIn <= 0) {
            // Without a lifetime there is no telling when the token goes stale: share it, keep nothing.
            this.#entries.delete(key);
            return tokens;
          }
          // Counted from when the request left: the token cannot expire later than that says.
          const lifetime = tokens.expiresIn * 1000;
          const expiresAt = askedAt + lifetime;
          const renewAt = expiresAt - Math.min(this.#leeway * 1000, lifetime / 2);
          this.#entries.set(key, { tokens, expiresAt, renewAt });
          log('client credentials token cached');
          return withRemainingLifetime(tokens, expiresAt, Date.now());
        },
        (err: unknown) => {
          if (this.#entries.get(key)?.pending === pending) this.#entries.delete(key);
          log('client credentials grant failed (%s)', loggableCode(err));
          throw err;
        },
      );
    // A stale token stays out of use while its renewal is under way.
    this.#entries.delete(key);
    this.#entries.set(key, { pending, renewAt: 0, expiresAt: 0 });
    this.#evict();
    return pending;
  }

  /** Keeps the cache bounded: expired tokens go first, then the oldest entries. */
  #evict(): void {
    if (this.#entries.size <= this.#maxEntries) return;
    const now = Date.now();
    for (const [key, entry] of this.#entries) {
      if (entry.pending === undefined && entry.expiresAt <= now) this.#entries.delete(key);
    }
    for (const [key, entry] of this.#entries) {
      if (this.#entries.size <= this.#maxEntries) break;
      if (entry.pending === undefined) this.#entries.delete(key);
    }
  }
}

/** A copy whose `expiresIn` is what is left of the token's life now. */
function withRemainingLifetime(tokens: TokenSet, expiresAt: number, now: number): TokenSet {
  return hideTokens({ ...tokens, expiresIn: Math.max(0, Math.floor((expiresAt - now) / 1000)), expiresAt: Math.floor(expiresAt / 1000) });
}
