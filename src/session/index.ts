import type { Request, RequestHandler, Response } from 'express';
import session from 'express-session';
import type { Config, SessionTokens } from '../config/types.js';
import { debug } from '../debug.js';
import { OidcError } from '../errors.js';
import { nowSeconds, type OidcSession } from './data.js';
import { GuardedStore, storeUnavailable } from './guarded-store.js';
import { MemoryStore } from './memory-store.js';

export { MemoryStore } from './memory-store.js';
export { GuardedStore } from './guarded-store.js';
export { MemoryLogoutIndex, type LogoutIndex } from './logout-index.js';
export type { OidcSession } from './data.js';

const log = debug('session');

/** How often, at most, activity is written back to extend a rolling session. */
const ACTIVITY_WRITE_INTERVAL = 60;

type Next = (err?: unknown) => void;

/**
 * Owns the session: mounts express-session (unless the app mounted one),
 * creates the session at login with a new id, ends it at logout, and enforces
 * the rolling and absolute lifetimes on the server.
 */
export class Sessions {
  readonly store: GuardedStore | undefined;
  readonly #middleware: RequestHandler | undefined;
  readonly #cookieName: string;
  readonly #config: Config;

  constructor(config: Config) {
    this.#config = config;
    this.#cookieName = config.session.name;
    const s = config.session;
    if (s.store === undefined && process.env.NODE_ENV === 'production') {
      console.warn('express-oidc: sessions are kept in process memory; set session.store (e.g. connect-redis) when running more than one instance.');
    }
    this.store = new GuardedStore(s.store ?? new MemoryStore({ fallbackTtl: s.rollingDuration * 1000 }), s.storeTimeout);
    this.#middleware = session({
      name: s.name,
      secret: [...config.secret],
      store: this.store,
      resave: false,
      saveUninitialized: false,
      rolling: false,
      unset: 'destroy',
      cookie: {
        httpOnly: true,
        secure: s.cookie.secure,
        sameSite: s.cookie.sameSite.toLowerCase() as 'lax' | 'strict' | 'none',
        path: s.cookie.path,
        ...(s.cookie.domain === undefined ? {} : { domain: s.cookie.domain }),
      },
    });
  }

  /**
   * Loads the session when the request carries our session cookie. Requests
   * without one skip express-session entirely: that keeps the anonymous path
   * as fast as a bare route, and creates nothing until a login.
   */
  load(req: Request, res: Response, next: Next): void {
    if (req.session !== undefined || this.#middleware === undefined) return this.#checkLifetime(req, next);
    const cookie = req.headers.cookie;
    if (cookie === undefined || !cookie.includes(`${this.#cookieName}=`)) return next();
    let loading = true;
    this.#middleware(req, res, (err?: unknown) => {
      const proceed = (): void => {
        try {
          if (err) next(forgetFailedLoad(req, err));
          else this.#checkLifetime(req, next);
        } catch (thrown) {
          next(thrown);
        }
      };
      // A store that answers synchronously (the in-process one) would run the whole request
      // inside the HTTP parser's callback. Yielding once, as an asynchronous store does, lets the
      // server read the other ready connections first: under concurrent load that measured
      // 10-15 % less CPU per request (bench/, case c).
      if (loading) setImmediate(proceed);
      else proceed();
    });
    loading = false;
  }

  /**
   * Starts a signed-in session under a new id (no session fixation);
   * `ceiling` (epoch seconds, the ID token's `session_expiry`) caps its life.
   */
  async establish(req: Request, res: Response, tokens: SessionTokens, ceiling?: number): Promise<void> {
    if (req.session === undefined) {
      await new Promise<void>((resolve, reject) =>
        (this.#middleware as RequestHandler)(req, res, (err?: unknown) => (err ? reject(forgetFailedLoad(req, err)) : resolve())),
      );
    }
    if (req.session.cookie.secure === true && !req.secure) {
      // express-session silently drops a Secure cookie on a request it sees as http: the user would come back anonymous.
      throw new OidcError(
        'ERR_CONFIG_INVALID',
        "the session cookie is Secure but this request arrived over http: behind a TLS proxy, set app.set('trust proxy', ...) so Express sees https",
        { status: 500 },
      );
    }
    await new Promise<void>((resolve, reject) => req.session.regenerate((err: unknown) => (err ? reject(storeUnavailable(err)) : resolve())));
    const now = nowSeconds();
    const data: OidcSession = { ...tokens, v: 1, created_at: now, last_seen: now };
    if (tokens.access_token !== undefined) data.issued_at = now;
    if (ceiling !== undefined) data.session_expiry = ceiling;
    req.session.oidc = data;
    this.#setCookieLifetime(req, data);
    this.store?.markNew(req.session);
    await new Promise<void>((resolve, reject) => req.session.save((err: unknown) => (err ? reject(storeUnavailable(err)) : resolve())));
    log('session established');
  }

  /** Ends the session on the server and clears its cookie. */
  async end(req: Request, res: Response): Promise<void> {
    if (req.session === undefined) return;
    await new Promise<void>((resolve, reject) => req.session.destroy((err: unknown) => (err ? reject(storeUnavailable(err)) : resolve())));
    res.clearCookie(this.#cookieName, {
      path: this.#config.session.cookie.path,
      ...(this.#config.session.cookie.domain === undefined ? {} : { domain: this.#config.session.cookie.domain }),
    });
    log('session ended');
  }

  /** Seconds the session may still live, from its login, its last activity and the IdP's ceiling. */
  #remaining(data: OidcSession, now: number): number {
    const s = this.#config.session;
    const absoluteLeft = s.absoluteDuration === false ? Number.POSITIVE_INFINITY : data.created_at + s.absoluteDuration - now;
    const rollingLeft = s.rolling ? data.last_seen + s.rollingDuration - now : Number.POSITIVE_INFINITY;
    const ceilingLeft = data.session_expiry === undefined ? Number.POSITIVE_INFINITY : data.session_expiry - now;
    const left = Math.min(absoluteLeft, rollingLeft, ceilingLeft);
    return Number.isFinite(left) ? left : s.rollingDuration;
  }

  #setCookieLifetime(req: Request, data: OidcSession): void {
    if (this.#config.session.cookie.transient) {
      req.session.cookie.maxAge = undefined;
      req.session.cookie.expires = undefined;
      return;
    }
    req.session.cookie.maxAge = Math.max(0, this.#remaining(data, nowSeconds())) * 1000;
  }

  /** Ends a session past its lifetime; records activity for rolling sessions (at most once a minute). */
  #checkLifetime(req: Request, next: Next): void {
    const data = req.session?.oidc;
    if (data === undefined) return next();
    const now = nowSeconds();
    if (this.#remaining(data, now) <= 0) {
      log('session expired');
      delete req.session.oidc;
      req.session.destroy((err: unknown) => next(err ? storeUnavailable(err) : undefined));
      return;
    }
    if (this.#config.session.rolling && now - data.last_seen >= Math.min(ACTIVITY_WRITE_INTERVAL, this.#config.session.rollingDuration / 10)) {
      data.last_seen = now;
      this.#setCookieLifetime(req, data);
    }
    next();
  }
}

/**
 * After the store failed to load the session, express-session leaves
 * `req.session` unset; with `unset: 'destroy'` it would then destroy the
 * session when the error response ends, logging the user out over an outage.
 * Without a session id there is nothing for it to destroy.
 */
function forgetFailedLoad(req: Request, err: unknown): unknown {
  if (req.session === undefined) delete (req as { sessionID?: string }).sessionID;
  return err;
}


