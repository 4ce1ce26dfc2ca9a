import type { Request } from 'express';
import type { SessionData, Store } from 'express-session';
import { decodeJwt } from 'jose';
import type { AuthClient, SessionBoundValidation } from '../client/auth-client.js';
import type { TokenSet } from '../client/token-set.js';
import type { Config } from '../config/types.js';
import { debug } from '../debug.js';
import { OidcError, SessionExpiredError } from '../errors.js';
import { nowSeconds, type OidcSession } from '../session/data.js';
import { pastCeiling } from '../session/ceiling.js';
import { copyTokens, storeUnavailable } from '../session/guarded-store.js';
import { processRefreshLock, withLock, type RefreshLock } from './lock.js';
import { mergeRefreshed } from './merge.js';

const log = debug('refresh');

/** Options of one refresh. */
export interface RefreshOptions {
  /**
   * Ask for a reduced scope. The token is handed to this caller only; the
   * session keeps its own access token (and takes the rotated refresh token).
   */
  scope?: string;
  /** Extra token endpoint parameters, sent when this call redeems the refresh token. */
  tokenEndpointParams?: Record<string, string>;
  /** Refresh even if the current token is still fresh. */
  force?: boolean;
}

/** An access token as handed to the app. */
export interface AccessTokenData {
  access_token: string;
  token_type: string;
  /** Epoch seconds. */
  expires_at?: number;
  scope?: string;
}

/**
 * Keeps each session's access token fresh, redeeming its refresh token once
 * at a time however many requests ask:
 *
 * - requests of this process that need the same session refreshed share one
 *   refresh (single flight per session id);
 * - every redemption holds the `RefreshLock` for the session and first reads
 *   the stored session again: tokens another request or instance stored in
 *   the meantime are taken instead of redeeming the same refresh token twice;
 * - the new tokens are written to the store under the lock, with the next
 *   token version, so an older copy saved later cannot replace them (the
 *   `GuardedStore` keeps the newer version).
 */
export class Refresher {
  readonly #config: Config;
  readonly #client: AuthClient;
  readonly #lock: RefreshLock;
  readonly #inflight = new Map<string, Promise<OidcSession>>();
  /** A failed automatic refresh, so the same request does not wait for the OP twice. */
  readonly #failed = new WeakMap<Request, unknown>();
  /** At most this long one redemption: discovery, token and JWKS requests, each bounded by `httpTimeout`, and store calls. */
  readonly #holdMs: number;

  constructor(config: Config, client: AuthClient) {
    this.#config = config;
    this.#client = client;
    this.#lock = config.refreshLock ?? processRefreshLock;
    this.#holdMs = 3 * config.httpTimeout + 2 * config.session.storeTimeout + 1_000;
  }

  /**
   * Whether the session's access token expires within `refreshLeeway`. For a
   * token whose whole lifetime is shorter than twice the leeway, the leeway is
   * half its lifetime, so short-lived tokens are not refreshed on every request.
   */
  needsRefresh(data: OidcSession, now = nowSeconds()): boolean {
    if (data.access_token === undefined) return data.refresh_token !== undefined;
    if (data.expires_at === undefined) return false;
    const lifetime = data.issued_at === undefined ? Number.POSITIVE_INFINITY : data.expires_at - data.issued_at;
    const leeway = Math.min(this.#config.refreshLeeway, Math.floor(lifetime / 2));
    return data.expires_at - leeway <= now;
  }

  /**
   * Refreshes the request's session before the route runs when its token is
   * due, so `req.oidc.accessToken` is fresh. Never throws: a rejected refresh
   * token has signed the session out (the guards then ask for a login); any
   * other failure keeps the tokens and is reported by `getAccessToken()`.
   */
  async autoRefresh(req: Request): Promise<void> {
    try {
      await this.fresh(req);
    } catch (err) {
      log('automatic refresh failed (%s)', err instanceof OidcError ? err.code : 'error');
      if (req.session?.oidc !== undefined) this.#failed.set(req, err);
    }
  }

  /** Whether `autoRefresh` has work to do for this request (cheap; no I/O). */
  wantsAutoRefresh(req: Request): boolean {
    const data = req.session?.oidc;
    return data !== undefined && data.refresh_token !== undefined && this.needsRefresh(data);
  }

  /**
   * A fresh access token for the request's session, refreshed when needed;
   * `req.session.oidc` then holds the new tokens too.
   */
  async fresh(req: Request, options: RefreshOptions = {}): Promise<AccessTokenData> {
    const data = req.session?.oidc;
    if (data === undefined) throw notAuthenticated();
    // Past the IdP's session ceiling no grant is sent: the session is over.
    if (pastCeiling(data.session_expiry)) throw new SessionExpiredError();
    if (options.scope !== undefined) return this.#reduced(req, data, options);
    if (!options.force && !this.needsRefresh(data)) return tokenOf(data);
    if (!options.force && this.#failed.has(req)) throw this.#failed.get(req);
    if (data.refresh_token === undefined) {
      throw new OidcError('ERR_REFRESH_UNAVAILABLE', 'the access token expired and the session has no refresh token', { status: 401 });
    }

    const sid = req.sessionID;
    let flight = this.#inflight.get(sid);
    if (flight === undefined) {
      flight = this.#refreshSession(req, data, options);
      this.#inflight.set(sid, flight);
      const settled = () => {
        if (this.#inflight.get(sid) === flight) this.#inflight.delete(sid);
      };
      flight.then(settled, settled);
    }
    let result: OidcSession;
    try {
      result = await flight;
    } catch (err) {
      // Every request that shared the refresh shares its outcome.
      if (signsOut(err) && req.session !== undefined) delete req.session.oidc;
      throw err;
    }
    adopt(req, result);
    return tokenOf(result);
  }

  /**
   * Revokes the session's refresh token at the OP (when it has a revocation
   * endpoint), for logout. Waits for a refresh in progress so the newest
   * refresh token is the one revoked. Never throws: a failure is logged and
   * the logout goes on.
   */
  async revoke(req: Request): Promise<void> {
    const loaded = req.session?.oidc;
    if (loaded === undefined) return;
    try {
      await this.#inflight.get(req.sessionID)?.catch(() => undefined);
      const revoke = async () => {
        const stored = await this.#read(req).catch(() => undefined);
        const newest = stored?.oidc !== undefined && stored.oidc.v >= loaded.v ? stored.oidc : loaded;
        if (newest.refresh_token === undefined) return;
        const metadata = await this.#client.serverMetadata();
        if (!metadata.revocation_endpoint) {
          log('the OP has no revocation endpoint; refresh token not revoked');
          return;
        }
        await this.#client.revokeRefreshToken({ refreshToken: newest.refresh_token });
      };
      await withLock(this.#lock, lockKey(req.sessionID), { holdMs: this.#holdMs, waitMs: this.#config.httpTimeout }, revoke).catch(async (err: unknown) => {
        // The lock stayed busy: revoke what this request has rather than nothing.
        if (err instanceof OidcError && err.code === 'ERR_REFRESH_LOCK_TIMEOUT') return revoke();
        throw err;
      });
    } catch (err) {
      log('refresh token revocation failed (%s); logging out anyway', err instanceof OidcError ? err.code : 'error');
    }
  }

  /** The shared refresh of the session's own access token. */
  #refreshSession(req: Request, loaded: OidcSession, options: RefreshOptions): Promise<OidcSession> {
    return withLock(this.#lock, lockKey(req.sessionID), { holdMs: this.#holdMs, waitMs: this.#holdMs + 1_000 }, async () => {
      const record = await this.#read(req);
      const latest = record.oidc as OidcSession;
      // Refreshed by another request or instance since this one loaded the session.
      if (latest.v > loaded.v && !this.needsRefresh(latest)) {
        log('tokens refreshed elsewhere; using them');
        return latest;
      }
      log('refreshing the access token');
      const tokens = await this.#redeem(req, record, latest, options);
      const next = mergeRefreshed(latest, tokens, nowSeconds(), true);
      await this.#store(req, record, next);
      log('access token refreshed');
      return next;
    });
  }

  /** A reduced-scope token for one caller; the session takes only the rotated refresh token. */
  async #reduced(req: Request, loaded: OidcSession, options: RefreshOptions): Promise<AccessTokenData> {
    if (loaded.refresh_token === undefined) {
      throw new OidcError('ERR_REFRESH_UNAVAILABLE', 'a token with another scope needs a refresh token, and the session has none', { status: 401 });
    }
    let tokens: TokenSet;
    let next: OidcSession;
    try {
      ({ tokens, next } = await withLock(this.#lock, lockKey(req.sessionID), { holdMs: this.#holdMs, waitMs: this.#holdMs + 1_000 }, async () => {
        const record = await this.#read(req);
        const latest = record.oidc as OidcSession;
        const redeemed = await this.#redeem(req, record, latest, options);
        const merged = mergeRefreshed(latest, redeemed, nowSeconds(), false);
        await this.#store(req, record, merged);
        return { tokens: redeemed, next: merged };
      }));
    } catch (err) {
      if (signsOut(err) && req.session !== undefined) delete req.session.oidc;
      throw err;
    }
    adopt(req, next);
    log('reduced-scope access token issued');
    return {
      access_token: tokens.accessToken,
      token_type: tokens.tokenType,
      ...(tokens.expiresAt === undefined ? {} : { expires_at: tokens.expiresAt }),
      ...(tokens.scope === undefined ? {} : { scope: tokens.scope }),
    };
  }

  /**
   * Redeems the stored refresh token. A rejection of the grant (or an ID
   * token that fails validation) signs the session out and throws
   * `ERR_REFRESH_FAILED`; any other failure keeps the tokens.
   */
  async #redeem(req: Request, record: SessionData, latest: OidcSession, options: RefreshOptions): Promise<TokenSet> {
    if (latest.refresh_token === undefined) {
      throw new OidcError('ERR_REFRESH_UNAVAILABLE', 'the session has no refresh token', { status: 401 });
    }
    try {
      return await this.#client.refreshToken(
        {
          refreshToken: latest.refresh_token,
          ...(options.scope === undefined ? {} : { scope: options.scope }),
          extra: { ...this.#config.tokenEndpointParams, ...options.tokenEndpointParams },
        },
        sameUserAs(latest.id_token),
      );
    } catch (err) {
      const e = err instanceof OidcError ? err : new OidcError('ERR_INVALID_RESPONSE', 'refresh_token grant: unexpected failure', { status: 502 });
      if (e.error === 'invalid_grant' || e.code === 'ERR_ID_TOKEN_INVALID') {
        log('refresh rejected (%s); the session is signed out', e.code === 'ERR_ID_TOKEN_INVALID' ? 'invalid ID token' : 'invalid_grant');
        delete record.oidc;
        await this.#write(req, record).catch(() => {});
        throw new OidcError(
          'ERR_REFRESH_FAILED',
          e.code === 'ERR_ID_TOKEN_INVALID' ? `refresh failed: ${e.message}; sign in again` : 'refresh failed: the OP rejected the refresh token; sign in again',
          {
            status: 401,
            ...(e.error === undefined ? {} : { error: e.error }),
            ...(e.errorDescription === undefined ? {} : { errorDescription: e.errorDescription }),
          },
        );
      }
      log('refresh failed (%s); tokens kept', e.code);
      // The user is still signed in: an OP error is the server's problem, not a 4xx of this request.
      if (e.status < 500 && e.code === 'ERR_OP_ERROR') {
        throw new OidcError('ERR_OP_ERROR', e.message, {
          status: 502,
          ...(e.error === undefined ? {} : { error: e.error }),
          ...(e.errorDescription === undefined ? {} : { errorDescription: e.errorDescription }),
        });
      }
      throw e;
    }
  }

  /** The stored session, under the lock; it must still be signed in. */
  async #read(req: Request): Promise<SessionData> {
    const store = req.sessionStore;
    const record = await storeCall<SessionData | null>((cb) => store.get(req.sessionID, cb));
    if (record == null || record.oidc === undefined) throw new OidcError('ERR_NOT_AUTHENTICATED', 'the session ended', { status: 401 });
    return record;
  }

  /**
   * Stores refreshed tokens. The OP has already rotated the refresh token, so
   * a failed write must not lose them: the requests that share this refresh
   * still take them into their session copies, whose saves write them later.
   */
  async #store(req: Request, record: SessionData, next: OidcSession): Promise<void> {
    try {
      await this.#write(req, { ...record, oidc: next });
    } catch {
      log('the refreshed tokens could not be stored yet; the request saves them with its session');
    }
  }

  async #write(req: Request, record: SessionData): Promise<void> {
    const store: Store = req.sessionStore;
    await storeCall<void>((cb) => store.set(req.sessionID, record, cb));
  }
}

const lockKey = (sid: string): string => `refresh:${sid}`;

function notAuthenticated(): OidcError {
  return new OidcError('ERR_NOT_AUTHENTICATED', 'the request has no signed-in session', { status: 401 });
}

/** Failures after which the request's copy of the session must not look signed in. */
function signsOut(err: unknown): boolean {
  return err instanceof OidcError && ((err.code === 'ERR_REFRESH_FAILED' && err.status === 401) || err.code === 'ERR_NOT_AUTHENTICATED');
}

/** Takes newer tokens into the request's copy of the session, so this request sees them too. */
function adopt(req: Request, stored: OidcSession): void {
  const current = req.session?.oidc;
  if (current !== undefined && stored.v > current.v) copyTokens(current, stored);
}

/** A refreshed ID token must be about the same user (and organization) as the session's. */
function sameUserAs(idToken: string): SessionBoundValidation {
  let claims: Record<string, unknown>;
  try {
    claims = decodeJwt(idToken);
  } catch {
    return {};
  }
  const validation: SessionBoundValidation = {};
  if (typeof claims.sub === 'string') validation.expectedSubject = claims.sub;
  const organization = typeof claims.org_id === 'string' ? claims.org_id : typeof claims.org_name === 'string' ? claims.org_name : undefined;
  if (organization !== undefined) validation.organization = organization;
  return validation;
}

function storeCall<T>(op: (cb: (err?: unknown, value?: T) => void) => void): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    try {
      op((err, value) => (err ? reject(storeUnavailable(err)) : resolve(value)));
    } catch (err) {
      reject(storeUnavailable(err));
    }
  });
}

function tokenOf(data: OidcSession): AccessTokenData {
  if (data.access_token === undefined) {
    throw new OidcError('ERR_REFRESH_UNAVAILABLE', 'the session holds no access token', { status: 401 });
  }
  return {
    access_token: data.access_token,
    token_type: data.token_type ?? 'Bearer',
    ...(data.expires_at === undefined ? {} : { expires_at: data.expires_at }),
    ...(data.scope === undefined ? {} : { scope: data.scope }),
  };
}
