import type { Request } from 'express';
import type { SessionData, Store } from 'express-session';
import { decodeJwt } from 'jose';
import type { AuthClient, SessionBoundValidation } from '../client/auth-client.js';
import type { TokenSet } from '../client/token-set.js';
import type { Config } from '../config/types.js';
import { debug } from '../debug.js';
import { loggableCode, OidcError, SessionExpiredError } from '../errors.js';
import { nowSeconds, type OidcSession } from '../session/data.js';
import { pastCeiling } from '../session/ceiling.js';
import { copyTokens } from '../session/guarded-store.js';
import { FailureMarkers } from './failure-markers.js';
import { acquireLock, processRefreshLock, sessionLockKey, withLock, type RefreshLock } from './lock.js';
import { PendingWrites } from './pending-writes.js';
import { SingleFlight } from './single-flight.js';
import { storeCall, writeSession } from './store-calls.js';
import { apiKey, apiTokensOf, withApiToken, type ApiToken } from './api-tokens.js';
import { mergeRefreshed } from './merge.js';

const log = debug('refresh');

/** Options of one refresh. */
export interface RefreshOptions {
  /**
   * A token for this API (audience / resource indicator) instead of the
   * session's: cached in the session by audience and `scope`, and obtained
   * with a `refresh_token` grant naming the API when missing or due.
   */
  audience?: string;
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

/** What one step under the lock produced: its result and the session to store, if it changed. */
interface LockedStep<T> {
  result: T;
  session?: OidcSession;
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
 *   tokens this process or this request holds that are newer than the stored
 *   ones are used (and stored) instead of the store's older copy;
 * - the new tokens are written to the store under the lock, with the next
 *   token version, so an older copy saved later cannot replace them (the
 *   `GuardedStore` keeps the newer version). A write that fails keeps the
 *   tokens in memory, serves them to every request of the session, and is
 *   retried with backoff while the lock is held, until it lands;
 * - a failed redemption leaves a short marker next to the lock, so other
 *   requests and instances fail fast instead of calling a failing OP again;
 * - every request has a deadline (`refreshDeadline`) for all its waits and
 *   calls; a request whose token has not expired yet is served with it when
 *   the refresh fails or outlasts the deadline.
 */
export class Refresher {
  readonly #config: Config;
  readonly #client: AuthClient;
  readonly #lock: RefreshLock;
  /** Refreshes in flight, by session id (and API): concurrent requests share one. */
  readonly #inflight = new SingleFlight<OidcSession>();
  /** A failed automatic refresh, so the same request does not wait for the OP twice. */
  readonly #failed = new WeakMap<Request, unknown>();
  /** When each request's refresh work must be over (epoch ms). */
  readonly #deadlines = new WeakMap<Request, number>();
  readonly #failures: FailureMarkers;
  readonly #pending = new PendingWrites();
  /** At most this long one redemption holds the lock: a store read, discovery, token and JWKS requests, a store write. */
  readonly #holdMs: number;
  /** Lifetime of the lock between extensions: how long a holder that died blocks the session. */
  readonly #lockTtlMs: number;

  constructor(config: Config, client: AuthClient) {
    this.#config = config;
    this.#client = client;
    this.#lock = config.refreshLock ?? processRefreshLock;
    this.#failures = new FailureMarkers(this.#lock);
    this.#holdMs = refreshHoldMs(config);
    this.#lockTtlMs = refreshLockTtlMs(config);
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
      log('automatic refresh failed (%s)', loggableCode(err));
      if (req.session?.oidc !== undefined) this.#failed.set(req, err);
    }
  }

  /**
   * Whether `autoRefresh` has work to do for this request (cheap; no I/O).
   * Tokens this process redeemed but could not store yet are taken into the
   * request's session first, so it never sees (or saves) the older ones.
   */
  wantsAutoRefresh(req: Request): boolean {
    const data = req.session?.oidc;
    if (data === undefined) return false;
    this.#pending.adopt(req.sessionID, data);
    return data.refresh_token !== undefined && this.needsRefresh(data);
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
    this.#pending.adopt(req.sessionID, data);
    if (options.audience !== undefined) return this.#forApi(req, data, options.audience, options);
    if (options.scope !== undefined) return this.#reduced(req, data, options);
    if (!options.force && !this.needsRefresh(data)) return tokenOf(data);
    if (!options.force && this.#failed.has(req)) return servedDespite(data, this.#failed.get(req));
    if (data.refresh_token === undefined) {
      throw new OidcError('ERR_REFRESH_UNAVAILABLE', 'the access token expired and the session has no refresh token', { status: 401 });
    }

    const flight = this.#inflight.run(req.sessionID, () => this.#refreshSession(req, data, options));
    let result: OidcSession;
    try {
      result = await this.#settle(req, flight);
    } catch (err) {
      // Every request that shared the refresh shares its outcome.
      if (signsOut(err) || options.force) throw err;
      this.#failed.set(req, err);
      // A token that has not expired yet still serves this request.
      return servedDespite(data, err);
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
    const sid = req.sessionID;
    try {
      await this.#inflight.get(sid)?.catch(() => undefined);
      // This process may hold the lock for tokens it could not store: those are the newest.
      const pending = this.#pending.take(sid);
      const revoke = async () => {
        const stored = await this.#read(req).catch(() => undefined);
        const newest = newestOf(stored?.oidc, loaded, pending?.session, this.#pending.sessionOf(sid));
        if (newest.refresh_token === undefined) return;
        const metadata = await this.#client.serverMetadata();
        if (!metadata.revocation_endpoint) {
          log('the OP has no revocation endpoint; refresh token not revoked');
          return;
        }
        await this.#client.revokeRefreshToken({ refreshToken: newest.refresh_token });
      };
      if (pending !== undefined) {
        // Revoke the newest under the lock the pending write holds, then let go.
        try {
          await revoke();
        } finally {
          await pending.keeper.release();
        }
        return;
      }
      await withLock(this.#lock, sessionLockKey(sid), { holdMs: this.#holdMs, ttlMs: this.#lockTtlMs, waitMs: this.#config.httpTimeout }, revoke).catch(async (err: unknown) => {
        // The lock stayed busy: revoke what this request has rather than nothing.
        if (err instanceof OidcError && err.code === 'ERR_REFRESH_LOCK_TIMEOUT') return revoke();
        throw err;
      });
    } catch (err) {
      log('refresh token revocation failed (%s); logging out anyway', loggableCode(err));
    }
  }

  /** The shared refresh of the session's own access token. */
  #refreshSession(req: Request, loaded: OidcSession, options: RefreshOptions): Promise<OidcSession> {
    return this.#locked(req, loaded, async (latest, record) => {
      // Refreshed by another request or instance since this one loaded the session.
      if (latest.v > loaded.v && !this.needsRefresh(latest)) {
        log('tokens refreshed elsewhere; using them');
        return { result: latest };
      }
      log('refreshing the access token');
      const tokens = await this.#redeem(req, record, latest, options);
      const next = mergeRefreshed(latest, tokens, nowSeconds(), true);
      log('access token refreshed');
      return { result: next, session: next };
    });
  }

  /**
   * A token for one API, from the session's cache when fresh, else from a
   * `refresh_token` grant naming the API (one grant per session and API at a
   * time; every grant of a session, whatever its API, under the session's
   * lock, so each redeems the newest refresh token). The session takes the
   * rotated refresh token and the API's token; its own token stays.
   */
  async #forApi(req: Request, data: OidcSession, audience: string, options: RefreshOptions): Promise<AccessTokenData> {
    const key = apiKey(audience, options.scope);
    const cached = apiTokensOf(data)[key];
    if (!options.force && cached !== undefined && !this.#due(cached)) {
      cached.used = Date.now();
      return apiTokenData(cached);
    }
    if (data.refresh_token === undefined) {
      throw new OidcError('ERR_REFRESH_UNAVAILABLE', 'a token for another API needs a refresh token, and the session has none', { status: 401 });
    }
    const flight = this.#inflight.run(`${req.sessionID}\n${key}`, () =>
      this.#locked(req, data, async (latest, record) => {
        const again = apiTokensOf(latest)[key];
        // Obtained by another request or instance since this one loaded the session.
        if (again !== undefined && !this.#due(again) && (!options.force || latest.v > data.v)) return { result: latest };
        const param = this.#config.resourceParameter;
        const tokens = await this.#redeem(req, record, latest, {
          ...(options.scope === undefined ? {} : { scope: options.scope }),
          tokenEndpointParams: { ...options.tokenEndpointParams, [param]: audience },
        });
        const next = withApiToken(mergeRefreshed(latest, tokens, nowSeconds(), false), key, audience, tokens, Date.now(), this.#config.maxCachedApis);
        log('access token for another API issued');
        return { result: next, session: next };
      }),
    );
    const result = await this.#settle(req, flight);
    adopt(req, result);
    const token = apiTokensOf(result)[key];
    if (token === undefined) throw new OidcError('ERR_INVALID_RESPONSE', 'no token for the API was obtained', { status: 502 });
    return apiTokenData(token);
  }

  /** Whether an API token is due, by the same leeway rule as the session's token. */
  #due(token: ApiToken): boolean {
    return this.needsRefresh({ access_token: token.access_token, expires_at: token.expires_at, issued_at: token.issued_at } as OidcSession);
  }

  /** A reduced-scope token for one caller; the session takes only the rotated refresh token. */
  async #reduced(req: Request, loaded: OidcSession, options: RefreshOptions): Promise<AccessTokenData> {
    if (loaded.refresh_token === undefined) {
      throw new OidcError('ERR_REFRESH_UNAVAILABLE', 'a token with another scope needs a refresh token, and the session has none', { status: 401 });
    }
    const { tokens, next } = await this.#settle(
      req,
      this.#locked(req, loaded, async (latest, record) => {
        const redeemed = await this.#redeem(req, record, latest, options);
        const merged = mergeRefreshed(latest, redeemed, nowSeconds(), false);
        return { result: { tokens: redeemed, next: merged }, session: merged };
      }),
    );
    adopt(req, next);
    log('reduced-scope access token issued');
    return accessTokenData(tokens.accessToken, tokens.tokenType, tokens.expiresAt, tokens.scope);
  }

  /**
   * Runs `step` under the session's lock with the newest tokens known: the
   * stored ones, the request's, or ones this process could not store yet.
   * Whatever `step` returns as `session` (or the newest tokens, when the
   * store lags behind them) is stored before the lock is given up; a write
   * that fails keeps the lock and the tokens until a retry lands.
   */
  async #locked<T>(
    req: Request,
    loaded: OidcSession,
    step: (latest: OidcSession, record: SessionData) => Promise<LockedStep<T>>,
  ): Promise<T> {
    const sid = req.sessionID;
    this.#failures.throwIfFailing(sid);
    const store: Store = req.sessionStore;
    const taken = this.#pending.take(sid);
    const keeper =
      taken?.keeper ??
      (await acquireLock(this.#lock, sessionLockKey(sid), {
        holdMs: this.#holdMs,
        ttlMs: this.#lockTtlMs,
        waitMs: this.#config.refreshDeadline,
        onBusy: () => this.#failures.throwIfFailing(sid),
      }));
    let record: SessionData | undefined = taken?.record;
    let unstored: OidcSession | undefined = taken?.session;
    try {
      await this.#failures.throwIfMarked(sid);
      const read = await this.#read(req);
      record = read;
      const current = req.session?.oidc;
      const latest = newestOf(read.oidc, current === undefined ? loaded : newestOf(loaded, current), unstored);
      // The store lags behind tokens this request or process holds: those are the live ones.
      unstored = latest === read.oidc ? undefined : latest;
      if (unstored !== undefined) log('the stored tokens are older than this process holds; using the newer ones');
      const { result, session } = await step(latest, read);
      if (session !== undefined) unstored = session;
      return result;
    } catch (err) {
      // Signed out or ended: nothing left to store.
      if (signsOut(err)) unstored = undefined;
      throw err;
    } finally {
      if (unstored !== undefined && record !== undefined) await this.#pending.persist(sid, store, record, unstored, keeper);
      else await keeper.release();
    }
  }

  /**
   * Redeems the stored refresh token. A rejection of the grant (or an ID
   * token that fails validation) signs the session out and throws
   * `ERR_REFRESH_FAILED`; any other failure keeps the tokens, and is marked
   * next to the lock for `REFRESH_FAILURE_BACKOFF_MS`.
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
      // A 400 or 401 without an OAuth error body refuses the grant too (Glewlwyd answers a dead
      // refresh token with an empty 400); an OAuth error other than invalid_grant keeps the tokens.
      const refusedWithoutBody = e.code === 'ERR_OP_ERROR' && e.error === undefined && (e.opStatus === 400 || e.opStatus === 401);
      if (e.error === 'invalid_grant' || e.code === 'ERR_ID_TOKEN_INVALID' || refusedWithoutBody) {
        log('refresh rejected (%s); the session is signed out', e.code === 'ERR_ID_TOKEN_INVALID' ? 'invalid ID token' : 'invalid_grant');
        delete record.oidc;
        await writeSession(req.sessionStore, req.sessionID, record).catch(() => {});
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
      // An OP that refused this one request (e.g. a scope or an API it will not grant) is not failing.
      if (!(e.code === 'ERR_OP_ERROR' && e.status < 500)) await this.#failures.mark(req.sessionID, e.code);
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

  /** Waits for `work` within the request's deadline; a failure that signs the session out also empties the request's copy. */
  async #settle<T>(req: Request, work: Promise<T>): Promise<T> {
    try {
      return await this.#withinDeadline(req, work);
    } catch (err) {
      if (signsOut(err) && req.session !== undefined) delete req.session.oidc;
      throw err;
    }
  }

  /** Settles with `work`, or with `ERR_REFRESH_TIMEOUT` (503) once the request's `refreshDeadline` has passed. */
  async #withinDeadline<T>(req: Request, work: Promise<T>): Promise<T> {
    let deadline = this.#deadlines.get(req);
    if (deadline === undefined) {
      deadline = Date.now() + this.#config.refreshDeadline;
      this.#deadlines.set(req, deadline);
    }
    const left = deadline - Date.now();
    if (left <= 0) throw deadlinePassed();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(deadlinePassed()), left);
    });
    try {
      // The work goes on for the requests that share it; only this request stops waiting.
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The stored session, under the lock; it must still be signed in. */
  async #read(req: Request): Promise<SessionData> {
    const store = req.sessionStore;
    const record = await storeCall<SessionData | null>((cb) => store.get(req.sessionID, cb));
    if (record == null || record.oidc === undefined) throw new OidcError('ERR_NOT_AUTHENTICATED', 'the session ended', { status: 401 });
    return record;
  }
}

/**
 * Milliseconds one redemption may hold the lock at most (while it is alive):
 * a store read, up to three OP calls (discovery, token, JWKS) of `httpTimeout`
 * each, a store write, and a second of slack.
 */
export function refreshHoldMs(config: { httpTimeout: number; session: { storeTimeout: number } }): number {
  return 3 * config.httpTimeout + 2 * config.session.storeTimeout + 1_000;
}

/**
 * Milliseconds the lock lives between two extensions, so a holder that died
 * blocks the session at most this long: two store timeouts (an extension
 * that is slow must still land in time) and a second of slack.
 */
export function refreshLockTtlMs(config: { session: { storeTimeout: number } }): number {
  return 2 * config.session.storeTimeout + 1_000;
}

function notAuthenticated(): OidcError {
  return new OidcError('ERR_NOT_AUTHENTICATED', 'the request has no signed-in session', { status: 401 });
}

/** Failures after which the request's copy of the session must not look signed in. */
function signsOut(err: unknown): boolean {
  return err instanceof OidcError && ((err.code === 'ERR_REFRESH_FAILED' && err.status === 401) || err.code === 'ERR_NOT_AUTHENTICATED');
}

/** The newest (highest `v`) of the copies given. */
function newestOf(...copies: Array<OidcSession | undefined>): OidcSession {
  let newest: OidcSession | undefined;
  for (const copy of copies) if (copy !== undefined && (newest === undefined || copy.v > newest.v)) newest = copy;
  if (newest === undefined) throw notAuthenticated();
  return newest;
}

/** Whether the access token has expired (or is missing); a token without a lifetime never expires. */
function expired(data: OidcSession): boolean {
  return data.access_token === undefined || (data.expires_at !== undefined && data.expires_at <= nowSeconds());
}

/** The current token when it has not expired yet; otherwise the failure. */
function servedDespite(data: OidcSession, err: unknown): AccessTokenData {
  if (expired(data)) throw err;
  log('refresh failed (%s); the current token has not expired and is used', loggableCode(err));
  return tokenOf(data);
}

function deadlinePassed(): OidcError {
  return new OidcError('ERR_REFRESH_TIMEOUT', 'the refresh did not finish within refreshDeadline', { status: 503 });
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

/** What a caller gets: the token and its type, with its expiry and scope when known. */
function accessTokenData(accessToken: string, tokenType: string, expiresAt: number | undefined, scope: string | undefined): AccessTokenData {
  return { access_token: accessToken, token_type: tokenType, ...(expiresAt === undefined ? {} : { expires_at: expiresAt }), ...(scope === undefined ? {} : { scope }) };
}

function apiTokenData(token: ApiToken): AccessTokenData {
  return accessTokenData(token.access_token, token.token_type, token.expires_at, token.scope);
}

function tokenOf(data: OidcSession): AccessTokenData {
  if (data.access_token === undefined) {
    throw new OidcError('ERR_REFRESH_UNAVAILABLE', 'the session holds no access token', { status: 401 });
  }
  return accessTokenData(data.access_token, data.token_type ?? 'Bearer', data.expires_at, data.scope);
}
