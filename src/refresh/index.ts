import type { Request } from 'express';
import type { SessionData, Store } from 'express-session';
import { decodeJwt } from 'jose';
import type { AuthClient } from '../client/auth-client.js';
import type { TokenSet } from '../client/token-set.js';
import type { Config } from '../config/types.js';
import { debug } from '../debug.js';
import { OidcError } from '../errors.js';
import { nowSeconds, type OidcSession } from '../session/data.js';
import { MemoryRefreshLock, type RefreshLock } from './lock.js';

export { MemoryRefreshLock, type RefreshLock, type ReleaseLock } from './lock.js';

const log = debug('refresh');
const POLL_INTERVAL_MS = 20;

export interface RefreshOptions {
  /** Ask for a reduced scope; the result is handed out but not stored as the session's token. */
  scope?: string;
  /** Extra token endpoint parameters for this refresh. */
  tokenEndpointParams?: Record<string, string>;
  /** Refresh even if the current token is still fresh. */
  force?: boolean;
}

/** The access token handed out to the app. */
export interface AccessTokenData {
  access_token: string;
  token_type: string;
  expires_at?: number;
  scope?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function storeCall<T>(store: Store, op: (cb: (err?: unknown, value?: T) => void) => void): Promise<T | undefined> {
  return new Promise((resolve, reject) => op((err, value) => (err ? reject(err) : resolve(value))));
}

/**
 * Keeps a session's access token fresh. A refresh token is redeemed once per
 * session at a time: requests of one instance share one in-flight refresh,
 * and instances share the `RefreshLock`; whoever gets the lock first reads
 * the stored session again, so tokens refreshed elsewhere are picked up
 * instead of redeeming the same refresh token twice.
 */
export class Refresher {
  readonly #config: Config;
  readonly #client: AuthClient;
  readonly #lock: RefreshLock;
  readonly #inflight = new Map<string, Promise<OidcSession>>();

  constructor(config: Config, client: AuthClient) {
    this.#config = config;
    this.#client = client;
    this.#lock = config.refreshLock ?? new MemoryRefreshLock();
  }

  /** Whether the token expires within the leeway (capped at half its lifetime, for short-lived tokens). */
  needsRefresh(data: OidcSession, now = nowSeconds()): boolean {
    if (data.expires_at === undefined) return false;
    const lifetime = data.issued_at === undefined ? Number.POSITIVE_INFINITY : data.expires_at - data.issued_at;
    const leeway = Math.min(this.#config.refreshLeeway, Math.floor(lifetime / 2));
    return data.expires_at - leeway <= now;
  }

  /**
   * Returns a fresh access token for the request's session, refreshing it
   * when needed and updating `req.session.oidc` with the result.
   */
  async fresh(req: Request, options: RefreshOptions = {}): Promise<AccessTokenData> {
    const data = req.session?.oidc;
    if (data === undefined) throw new OidcError('ERR_NOT_AUTHENTICATED', 'the request has no signed-in session', { status: 401 });
    const shared = options.scope === undefined && options.tokenEndpointParams === undefined;
    if (shared && !options.force && !this.needsRefresh(data)) return tokenOf(data);
    if (data.refresh_token === undefined) {
      throw new OidcError('ERR_REFRESH_UNAVAILABLE', 'the access token expired and the session has no refresh token', { status: 401 });
    }

    const sid = req.sessionID;
    let reduced: TokenSet | undefined;
    let result: OidcSession;
    if (shared) {
      let flight = this.#inflight.get(sid);
      if (flight === undefined) {
        flight = this.#refreshLocked(req, data, options).then((r) => r.stored);
        this.#inflight.set(sid, flight);
        const clear = () => this.#inflight.delete(sid);
        flight.then(clear, clear);
      }
      try {
        result = await flight;
      } catch (err) {
        // The grant was rejected for every request sharing this refresh.
        if (err instanceof OidcError && err.code === 'ERR_REFRESH_FAILED' && err.status === 401 && req.session !== undefined) delete req.session.oidc;
        throw err;
      }
    } else {
      const outcome = await this.#refreshLocked(req, data, options);
      result = outcome.stored;
      reduced = outcome.reduced;
    }

    // Take the new tokens into this request's copy, unless it already has newer ones.
    const current = req.session?.oidc;
    if (current !== undefined && result.v > current.v) Object.assign(current, result);
    return reduced === undefined
      ? tokenOf(result)
      : { access_token: reduced.accessToken, token_type: reduced.tokenType, ...(reduced.expiresAt === undefined ? {} : { expires_at: reduced.expiresAt }), ...(reduced.scope === undefined ? {} : { scope: reduced.scope }) };
  }

  async #refreshLocked(req: Request, loaded: OidcSession, options: RefreshOptions): Promise<{ stored: OidcSession; reduced?: TokenSet }> {
    const store = req.sessionStore;
    const sid = req.sessionID;
    const key = `refresh:${sid}`;
    const holdMs = this.#config.httpTimeout + 2_000;
    const deadline = Date.now() + 2 * holdMs;

    for (;;) {
      const release = await this.#lock.acquire(key, holdMs);
      if (release === null) {
        if (Date.now() > deadline) {
          throw new OidcError('ERR_REFRESH_LOCK_TIMEOUT', 'another refresh of this session did not finish in time', { status: 503 });
        }
        await sleep(POLL_INTERVAL_MS);
        continue;
      }
      try {
        const record = await storeCall<SessionData | null>(store, (cb) => store.get(sid, cb));
        const latest = record?.oidc;
        if (record == null || latest === undefined) {
          throw new OidcError('ERR_NOT_AUTHENTICATED', 'the session ended', { status: 401 });
        }
        const shared = options.scope === undefined && options.tokenEndpointParams === undefined;
        // Refreshed elsewhere since this request loaded the session: use that.
        if (shared && latest.v > loaded.v && !this.needsRefresh(latest)) return { stored: latest };
        return await this.#redeem(req, record, latest, options);
      } finally {
        await release().catch(() => {});
      }
    }
  }

  async #redeem(req: Request, record: SessionData, latest: OidcSession, options: RefreshOptions): Promise<{ stored: OidcSession; reduced?: TokenSet }> {
    const store = req.sessionStore;
    const sid = req.sessionID;
    const sub = decodeJwt(latest.id_token).sub;
    let tokens: TokenSet;
    try {
      tokens = await this.#client.refreshToken(
        {
          refreshToken: latest.refresh_token as string,
          ...(options.scope === undefined ? {} : { scope: options.scope }),
          extra: { ...this.#config.tokenEndpointParams, ...options.tokenEndpointParams },
        },
        sub === undefined ? {} : { expectedSubject: sub },
      );
    } catch (err) {
      const e = err instanceof OidcError ? err : new OidcError('ERR_REFRESH_FAILED', 'refresh failed', { status: 502 });
      if (e.code === 'ERR_OP_UNREACHABLE') {
        log('refresh failed: OP unreachable; tokens kept');
        throw e;
      }
      if (e.error === 'invalid_grant' || e.code === 'ERR_ID_TOKEN_INVALID') {
        // The grant is gone: sign the user out everywhere this session is used.
        log('refresh token rejected; session signed out');
        delete record.oidc;
        await storeCall(store, (cb) => store.set(sid, record, cb));
        if (req.session !== undefined) delete req.session.oidc;
        throw new OidcError('ERR_REFRESH_FAILED', 'the refresh token was rejected; sign in again', {
          status: 401,
          ...(e.error === undefined ? {} : { error: e.error }),
          ...(e.errorDescription === undefined ? {} : { errorDescription: e.errorDescription }),
        });
      }
      log('refresh failed (%s); tokens kept', e.code);
      throw new OidcError('ERR_REFRESH_FAILED', `refresh failed: ${e.message}`, {
        status: e.status >= 500 ? e.status : 502,
        ...(e.error === undefined ? {} : { error: e.error }),
        ...(e.errorDescription === undefined ? {} : { errorDescription: e.errorDescription }),
      });
    }

    const now = nowSeconds();
    const next: OidcSession = { ...latest, v: latest.v + 1 };
    if (tokens.refreshToken !== undefined) next.refresh_token = tokens.refreshToken;
    const reducedScope = options.scope !== undefined;
    if (!reducedScope) {
      next.access_token = tokens.accessToken;
      next.token_type = tokens.tokenType;
      next.issued_at = now;
      if (tokens.expiresAt === undefined) delete next.expires_at;
      else next.expires_at = tokens.expiresAt;
      if (tokens.scope !== undefined) next.scope = tokens.scope;
      if (tokens.idToken !== undefined) next.id_token = tokens.idToken;
    }
    record.oidc = next;
    await storeCall(store, (cb) => store.set(sid, record, cb));
    log('access token refreshed');
    return reducedScope ? { stored: next, reduced: tokens } : { stored: next };
  }
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
