import type { SessionData, Store } from 'express-session';
import { debug } from '../debug.js';
import type { OidcSession } from '../session/data.js';
import { copyTokens } from '../session/guarded-store.js';
import type { LockKeeper } from './lock.js';
import { writeSession } from './store-calls.js';

const log = debug('refresh');

/** Milliseconds redeemed tokens whose write failed are kept in memory and retried (the lock is held meanwhile). */
export const PENDING_WRITE_LIMIT_MS = 5 * 60_000;
const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 1_000;

/** Redeemed tokens the store has not taken yet, retried in the background while the lock is held. */
export interface PendingWrite {
  session: OidcSession;
  record: SessionData;
  store: Store;
  keeper: LockKeeper;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Tokens the OP has already rotated that the session store has not taken yet, by session id.
 * A failed write must not lose them: they stay here (served to every request of the session),
 * the session's refresh lock stays held, and the write is retried with backoff until it lands or
 * `PENDING_WRITE_LIMIT_MS` has passed.
 */
export class PendingWrites {
  readonly #pending = new Map<string, PendingWrite>();

  /** The session's unstored tokens, if any. */
  sessionOf(sid: string): OidcSession | undefined {
    return this.#pending.get(sid)?.session;
  }

  /** Takes the session's unstored tokens into `data` (the request's copy) when they are newer. */
  adopt(sid: string, data: OidcSession): void {
    if (this.#pending.size === 0) return;
    const pending = this.#pending.get(sid);
    if (pending !== undefined && pending.session.v > data.v) copyTokens(data, pending.session);
  }

  /** Takes over the session's pending write (and the lock it holds) and stops its retries. */
  take(sid: string): PendingWrite | undefined {
    const pending = this.#pending.get(sid);
    if (pending !== undefined) this.#drop(sid, pending);
    return pending;
  }

  /** Stores `session` in the record of `sid`, then releases the lock; when the write fails, keeps both and retries. */
  async persist(sid: string, store: Store, record: SessionData, session: OidcSession, keeper: LockKeeper): Promise<void> {
    try {
      await writeSession(store, sid, { ...record, oidc: session });
      await keeper.release();
      return;
    } catch {
      log('the refreshed tokens could not be stored yet; kept in memory and retried');
    }
    const giveUpAt = Date.now() + PENDING_WRITE_LIMIT_MS;
    keeper.keepUntil(giveUpAt);
    const pending: PendingWrite = { session, record, store, keeper, timer: undefined };
    this.#pending.set(sid, pending);
    let pause = FIRST_RETRY_MS;
    const retry = async (): Promise<void> => {
      if (this.#pending.get(sid) !== pending) return;
      try {
        await writeSession(store, sid, { ...record, oidc: session });
        this.#drop(sid, pending);
        await keeper.release();
        log('the refreshed tokens are stored');
      } catch {
        if (this.#pending.get(sid) !== pending) return;
        if (Date.now() >= giveUpAt) {
          this.#drop(sid, pending);
          await keeper.release();
          log('the refreshed tokens could not be stored in time; given up');
          return;
        }
        pause = Math.min(pause * 2, MAX_RETRY_MS);
        pending.timer = setTimeout(() => void retry(), pause);
        pending.timer.unref();
      }
    };
    pending.timer = setTimeout(() => void retry(), pause);
    pending.timer.unref();
  }

  #drop(sid: string, pending: PendingWrite): void {
    clearTimeout(pending.timer);
    pending.timer = undefined;
    if (this.#pending.get(sid) === pending) this.#pending.delete(sid);
  }
}
