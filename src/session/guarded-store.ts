import session from 'express-session';
import { OidcError } from '../errors.js';
import type { OidcSession } from './data.js';

type Callback<T = void> = (err?: unknown, value?: T) => void;

function unavailable(): OidcError {
  return new OidcError('ERR_SESSION_STORE_UNAVAILABLE', 'the session store is unavailable', { status: 503 });
}

/**
 * Wraps any express-session store with three guarantees:
 * - a store call that fails or takes longer than `timeout` ms becomes a 503
 *   error (express-session passes it to `next`), never a hang; its
 *   'disconnect' events are not forwarded, because express-session would then
 *   silently run requests without a session, which logs users out;
 * - a save carrying older tokens than the stored ones keeps the stored tokens,
 *   so a request that loaded the session before a refresh cannot roll it back;
 * - a save of a signed-in session whose record is gone (logged out, ended by
 *   back-channel logout, expired) is dropped unless the session is new.
 */
export class GuardedStore extends session.Store {
  readonly inner: session.Store;
  readonly #timeout: number;
  /** Sessions created by a login in this process and not yet saved. */
  readonly #fresh = new WeakSet<object>();

  constructor(inner: session.Store, timeout: number) {
    super();
    this.inner = inner;
    this.#timeout = timeout;
  }

  /** Marks a just-created session, whose first save must go through. */
  markNew(sess: object): void {
    this.#fresh.add(sess);
  }

  override get(sid: string, callback: Callback<session.SessionData | null>): void {
    this.#call<session.SessionData | null>((cb) => this.inner.get(sid, cb), callback);
  }

  override set(sid: string, sess: session.SessionData, callback?: Callback): void {
    const done = callback ?? (() => {});
    if (sess.oidc === undefined) return this.#call((cb) => this.inner.set(sid, sess, cb), done);
    const isNew = this.#fresh.has(sess);
    this.#call<session.SessionData | null>(
      (cb) => this.inner.get(sid, cb),
      (err, stored) => {
        if (err) return done(err);
        if (!stored?.oidc) {
          if (!isNew) return done();
          this.#fresh.delete(sess);
        } else {
          keepNewerTokens(sess.oidc as OidcSession, stored.oidc);
        }
        this.#call((cb) => this.inner.set(sid, sess, cb), done);
      },
    );
  }

  override touch(sid: string, sess: session.SessionData, callback?: Callback): void {
    const done = callback ?? (() => {});
    if (typeof this.inner.touch !== 'function') return done();
    this.#call((cb) => (this.inner.touch as NonNullable<session.Store['touch']>)(sid, sess, cb), done);
  }

  override destroy(sid: string, callback?: Callback): void {
    this.#call((cb) => this.inner.destroy(sid, cb), callback ?? (() => {}));
  }

  #call<T>(op: (cb: Callback<T>) => void, callback: Callback<T>): void {
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      callback(unavailable());
    }, this.#timeout);
    const finish: Callback<T> = (err, value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) callback(err instanceof OidcError ? err : unavailable());
      else callback(null, value);
    };
    try {
      op(finish);
    } catch {
      finish(unavailable());
    }
  }
}

/** Copies the stored tokens over `incoming` when the stored ones are newer. */
function keepNewerTokens(incoming: OidcSession, stored: OidcSession): void {
  if ((stored.v ?? 0) <= (incoming.v ?? 0)) return;
  for (const key of ['v', 'id_token', 'access_token', 'token_type', 'expires_at', 'issued_at', 'refresh_token', 'scope'] as const) {
    if (stored[key] === undefined) delete incoming[key];
    else (incoming as Record<string, unknown>)[key] = stored[key];
  }
}
