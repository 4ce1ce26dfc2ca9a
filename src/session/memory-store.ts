import session from 'express-session';

type Callback<T = void> = (err?: unknown, value?: T) => void;

interface Entry {
  json: string;
  expires: number;
}

/** The expiry express-session wrote into the session's cookie, in epoch milliseconds. */
function expiryOf(sess: session.SessionData, fallbackTtl: number): number {
  const expires = sess.cookie?.expires;
  const at = expires ? new Date(expires as unknown as string).getTime() : Number.NaN;
  return Number.isFinite(at) ? at : Date.now() + fallbackTtl;
}

/**
 * The default in-process session store. Unlike express-session's MemoryStore it
 * prunes expired sessions on a timer, so memory does not grow without bound.
 * Sessions are kept as JSON so callers never share one object.
 * One process only: use a shared store (Redis) for several instances.
 */
export class MemoryStore extends session.Store {
  readonly #sessions = new Map<string, Entry>();
  readonly #fallbackTtl: number;
  readonly #timer: NodeJS.Timeout;

  /** `fallbackTtl`: lifetime in ms of sessions whose cookie has no expiry. */
  constructor(options: { fallbackTtl?: number; pruneInterval?: number } = {}) {
    super();
    this.#fallbackTtl = options.fallbackTtl ?? 86_400_000;
    this.#timer = setInterval(() => this.prune(), options.pruneInterval ?? 60_000);
    this.#timer.unref();
  }

  override get(sid: string, callback: Callback<session.SessionData | null>): void {
    const entry = this.#sessions.get(sid);
    if (entry === undefined) return callback(null, null);
    if (entry.expires <= Date.now()) {
      this.#sessions.delete(sid);
      return callback(null, null);
    }
    callback(null, JSON.parse(entry.json) as session.SessionData);
  }

  override set(sid: string, sess: session.SessionData, callback?: Callback): void {
    this.#sessions.set(sid, { json: JSON.stringify(sess), expires: expiryOf(sess, this.#fallbackTtl) });
    callback?.();
  }

  override touch(sid: string, sess: session.SessionData, callback?: Callback): void {
    const entry = this.#sessions.get(sid);
    if (entry !== undefined) entry.expires = expiryOf(sess, this.#fallbackTtl);
    callback?.();
  }

  override destroy(sid: string, callback?: Callback): void {
    this.#sessions.delete(sid);
    callback?.();
  }

  override length(callback: Callback<number>): void {
    callback(null, this.#sessions.size);
  }

  override clear(callback?: Callback): void {
    this.#sessions.clear();
    callback?.();
  }

  override all(callback: Callback<Record<string, session.SessionData>>): void {
    const out: Record<string, session.SessionData> = {};
    const now = Date.now();
    for (const [sid, entry] of this.#sessions) if (entry.expires > now) out[sid] = JSON.parse(entry.json) as session.SessionData;
    callback(null, out);
  }

  /** Drops expired sessions; runs on a timer that does not keep the process alive. */
  prune(): void {
    const now = Date.now();
    for (const [sid, entry] of this.#sessions) if (entry.expires <= now) this.#sessions.delete(sid);
  }

  /** Stops the prune timer. */
  close(): void {
    clearInterval(this.#timer);
  }
}
