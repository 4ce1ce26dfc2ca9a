import type { SessionData, Store } from 'express-session';
import { storeUnavailable } from '../session/guarded-store.js';

/** An express-session store call as a promise; a failure (or a throw) becomes `ERR_SESSION_STORE_UNAVAILABLE`. */
export function storeCall<T>(op: (cb: (err?: unknown, value?: T) => void) => void): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    try {
      op((err, value) => (err ? reject(storeUnavailable(err)) : resolve(value)));
    } catch (err) {
      reject(storeUnavailable(err));
    }
  });
}

/** Writes the session record of `sid` to the store. */
export async function writeSession(store: Store, sid: string, record: SessionData): Promise<void> {
  await storeCall<void>((cb) => store.set(sid, record, cb));
}
