import { inspect } from 'node:util';
import session from 'express-session';
import { OidcError } from '../errors.js';
import type { OidcSession } from './data.js';

type Callback<T = void> = (err?: unknown, value?: T) => void;

/** The 503 a failing or slow session store gives; an `OidcError` already raised passes through. */
export function storeUnavailable(err?: unknown): OidcError {
  return err instanceof OidcError ? err : new OidcError('ERR_SESSION_STORE_UNAVAILABLE', 'the session store is unavailable', { status: 503 });
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
 *
 * The last two read the stored record before writing. Writes and destroys of
 * one session id are queued in this process, so no other write of this
 * process lands between that read and its write.
 */
export class GuardedStore extends session.Store {
  readonly inner: session.Store;
  readonly #timeout: number;
  /** Sessions created by a login in this process and not yet saved. */
  readonly #fresh = new WeakSet<object>();
  /** The tail of each session id's queue of writes. */
  readonly #queues = new Map<string, Promise<void>>();


  // The wrapped store may hold a client with a password, or sessions (tokens): it is named, never printed.
  toJSON(): Record<string, unknown> {
    return { store: this.inner.constructor.name, timeout: this.#timeout };
  }

  [inspect.custom](_depth: number, options: object): string {
    return `GuardedStore ${inspect(this.toJSON(), options)}`;
  }

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
    this.#queued(sid, (done) => this.#guardedSet(sid, sess, done), callback ?? (() => {}));
  }

  override touch(sid: string, sess: session.SessionData, callback?: Callback): void {
    const done = callback ?? (() => {});
    // With a persistent cookie every write already stored the session's end (the cookie's expiry),
    // and a rolling session is written again as it rolls: touching would store the same expiry.
    if (typeof this.inner.touch !== 'function' || sess.cookie?.expires) return done();
    this.#call((cb) => (this.inner.touch as NonNullable<session.Store['touch']>)(sid, sess, cb), done);
  }

  override destroy(sid: string, callback?: Callback): void {
    this.#queued(sid, (done) => this.#call((cb) => this.inner.destroy(sid, cb), done), callback ?? (() => {}));
  }

  #guardedSet(sid: string, sess: session.SessionData, done: Callback): void {
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

  /** Runs `op` after the earlier writes of `sid` finished (each is bounded by the store timeout). */
  #queued(sid: string, op: (done: Callback) => void, callback: Callback): void {
    const previous = this.#queues.get(sid);
    const run = (): Promise<void> =>
      new Promise<void>((resolve) => {
        op((err) => {
          resolve();
          callback(err);
        });
      });
    const tail = previous === undefined ? run() : previous.then(run);
    this.#queues.set(sid, tail);
    void tail.then(() => {
      if (this.#queues.get(sid) === tail) this.#queues.delete(sid);
    });
  }

  #call<T>(op: (cb: Callback<T>) => void, callback: Callback<T>): void {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish: Callback<T> = (err, value) => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      if (err) callback(storeUnavailable(err));
      else callback(null, value);
    };
    try {
      op(finish);
    } catch {
      finish(storeUnavailable());
    }
    // Only a call still pending needs a deadline: the in-process store answers at once, and a
    // timer per store call is a measurable part of a signed-in request.
    if (!settled) {
      timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        callback(storeUnavailable());
      }, this.#timeout);
    }
  }
}

/** The fields of `req.session.oidc` that a refresh changes, together with `v` (`apis`: the per-API tokens). */
export const TOKEN_FIELDS = ['v', 'id_token', 'access_token', 'token_type', 'expires_at', 'issued_at', 'refresh_token', 'scope', 'apis'] as const;

/** Copies the token fields of `source` onto `target`, removing those `source` lacks. */
export function copyTokens(target: OidcSession, source: OidcSession): void {
  for (const key of TOKEN_FIELDS) {
    if (source[key] === undefined) delete (target as Partial<OidcSession>)[key];
    else (target as Record<string, unknown>)[key] = source[key];
  }
}

/** Copies the stored tokens over `incoming` when the stored ones are newer. */
function keepNewerTokens(incoming: OidcSession, stored: OidcSession): void {
  if ((stored.v ?? 0) > (incoming.v ?? 0)) copyTokens(incoming, stored);
}
