import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import type { SessionData, Store } from 'express-session';
import type { Config } from '../config/types.js';
import { OidcError } from '../errors.js';
import { storeUnavailable } from '../session/guarded-store.js';
import { nowSeconds } from '../session/data.js';
import { clearCookie, parseCookies, setCookie, type CookieAttributes } from '../transaction/cookies.js';

/** Seconds a pending login lives (Auth0's `mfa_token` lives 10 minutes; a code is typed in one or two). */
export const PENDING_LOGIN_TTL = 300;
/** Wrong codes accepted before the pending login ends. */
export const MAX_CODE_ATTEMPTS = 5;

/** What the server keeps between the password and the code. */
export interface PendingLogin {
  mfaToken: string;
  username: string;
  appState: Record<string, unknown>;
  /** Epoch seconds. */
  createdAt: number;
  /** Wrong codes so far. */
  attempts: number;
  /** SHA-256 of the browser's binding cookie. */
  binding: string;
  /** The `oob_code` of a code sent out of band (`/mfa/challenge`), once one was. */
  oobCode?: string;
}

/** A pending login as the session store holds it (an expiry in `cookie`, as stores read it for their TTL). */
interface StoredPendingLogin {
  cookie: { originalMaxAge: number; expires: string };
  pendingLogin: PendingLogin;
}

const HANDLE = /^[\w-]{43}$/;

const digest = (value: string): string => createHash('sha256').update(value).digest('base64url');

/** One answer for every refused handle: unknown, used, expired, from another browser, busy, or ended by the OP (`cause`). */
export function pendingLoginInvalid(cause?: unknown): OidcError {
  return new OidcError('ERR_PENDING_LOGIN_INVALID', 'this sign-in is no longer pending; start again with your username and password', {
    status: 401,
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * Pending MFA logins: the `mfa_token` is kept in the session store (never
 * sent to the browser), under a key derived from a random handle the page
 * posts back; a second random value in an HttpOnly cookie, scoped to the
 * password login route, binds it to the browser that typed the password.
 * A pending login is taken out of the store while a code is checked, so a
 * handle works once, on one request at a time.
 */
export class PendingLogins {
  readonly #store: Store;
  readonly #cookieName: string;
  readonly #attrs: CookieAttributes;
  /** Handles being checked in this process (a second request with the same handle is refused). */
  readonly #busy = new Set<string>();

  constructor(store: Store, config: Config) {
    this.#store = store;
    this.#cookieName = `${config.transactionCookie.name}_mfa`;
    this.#attrs = { path: config.routes.passwordLogin, secure: config.session.cookie.secure, sameSite: 'Strict' };
  }

  /** Stores a new pending login, sets the binding cookie, and returns the handle. */
  async start(res: Response, login: Omit<PendingLogin, 'createdAt' | 'attempts' | 'binding'>): Promise<{ handle: string; expiresAt: number }> {
    const handle = randomBytes(32).toString('base64url');
    const binding = randomBytes(32).toString('base64url');
    const record: PendingLogin = { ...login, createdAt: nowSeconds(), attempts: 0, binding: digest(binding) };
    await this.#save(handle, record);
    setCookie(res, this.#cookieName, binding, { ...this.#attrs, maxAge: PENDING_LOGIN_TTL });
    return { handle, expiresAt: record.createdAt + PENDING_LOGIN_TTL };
  }

  /**
   * Takes the pending login of `handle` out of the store, once: it must
   * exist, be younger than PENDING_LOGIN_TTL, and belong to this browser.
   * Call `release` when the request is done with it (whatever the outcome).
   */
  async take(req: Request, handle: string): Promise<PendingLogin> {
    if (!HANDLE.test(handle) || this.#busy.has(handle)) throw pendingLoginInvalid();
    this.#busy.add(handle);
    try {
      const key = keyOf(handle);
      const stored = (await call<SessionData | null>((cb) => this.#store.get(key, cb))) as unknown as StoredPendingLogin | null | undefined;
      const login = stored?.pendingLogin;
      if (login === undefined) throw pendingLoginInvalid();
      const cookie = parseCookies(req).get(this.#cookieName);
      // Another browser holding the handle cannot use it, nor end it.
      if (cookie === undefined || !sameDigest(digest(cookie), login.binding)) throw pendingLoginInvalid();
      await call<void>((cb) => this.#store.destroy(key, cb));
      if (nowSeconds() - login.createdAt >= PENDING_LOGIN_TTL) throw pendingLoginInvalid();
      return login;
    } catch (err) {
      this.#busy.delete(handle);
      throw err;
    }
  }

  /** Puts a pending login back (after a wrong code, or a failure that was not the user's), keeping its expiry. */
  async putBack(handle: string, login: PendingLogin): Promise<void> {
    try {
      await this.#save(handle, login);
    } finally {
      this.#busy.delete(handle);
    }
  }

  /** The pending login is over (completed or ended): forget the handle and clear the cookie. */
  end(res: Response, handle: string): void {
    this.#busy.delete(handle);
    clearCookie(res, this.#cookieName, this.#attrs);
  }

  async #save(handle: string, login: PendingLogin): Promise<void> {
    const ttl = login.createdAt + PENDING_LOGIN_TTL - nowSeconds();
    if (ttl <= 0) throw pendingLoginInvalid();
    const record: StoredPendingLogin = { cookie: { originalMaxAge: ttl * 1000, expires: new Date(Date.now() + ttl * 1000).toISOString() }, pendingLogin: login };
    await call<void>((cb) => this.#store.set(keyOf(handle), record as unknown as SessionData, cb));
  }
}

/**
 * The store key of a handle: a digest, so no signed cookie of this library
 * (whose signatures use the same secret) can ever name it as a session id.
 */
function keyOf(handle: string): string {
  return `pending-login:${digest(handle)}`;
}

function sameDigest(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function call<T>(op: (cb: (err?: unknown, value?: T) => void) => void): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    try {
      op((err, value) => (err ? reject(storeUnavailable(err)) : resolve(value)));
    } catch (err) {
      reject(storeUnavailable(err));
    }
  });
}
