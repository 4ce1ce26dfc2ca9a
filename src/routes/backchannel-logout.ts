import type { Request, Response } from 'express';
import type { Store } from 'express-session';
import { LOGOUT_TOKEN_MAX_AGE, type LogoutTokenClaims } from '../client/logout-token.js';
import { debug } from '../debug.js';
import { OidcError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { storeUnavailable } from '../session/guarded-store.js';
import type { LogoutIndex } from '../session/logout-index.js';
import { readForm, single } from './form.js';

const log = debug('backchannel-logout');

/** Longest `logout_token` read; OPs send a few hundred bytes to a couple of kB. */
const MAX_LOGOUT_TOKEN_LENGTH = 8 * 1024;

/** The OP gets `invalid_request` and a reason; the token itself is never echoed. */
function reject(res: Response, reason: string): void {
  res.status(400).set('Cache-Control', 'no-store').json({ error: 'invalid_request', error_description: reason });
}

/**
 * OpenID Connect Back-Channel Logout 1.0: the OP POSTs a signed
 * `logout_token` here when a user's session at the OP ends. After the token
 * is validated and its `jti` is claimed (a replay is refused), every session
 * filed under its `sid` (or, without a `sid`, under its `sub`) is destroyed
 * in the session store, so it is signed out on its next request, whichever
 * instance created it or serves it.
 *
 * Answers 200 when done, 400 `invalid_request` for a bad or replayed token
 * (nothing is ended then), and passes OP and store outages to `next` (5xx).
 */
export async function backchannelLogout(rt: Runtime, index: LogoutIndex, req: Request, res: Response): Promise<void> {
  let claims: LogoutTokenClaims;
  try {
    const token = single(await readForm(req), 'logout_token', MAX_LOGOUT_TOKEN_LENGTH);
    if (token === undefined || token.length === 0) return reject(res, 'the request has no logout_token');
    claims = await rt.client.validateLogoutToken(token);
  } catch (err) {
    if (err instanceof OidcError && err.status < 500) {
      log('logout token refused: %s', err.message);
      return reject(res, err.message);
    }
    throw err;
  }

  // Remembered as long as the token could still pass validation.
  const replayWindow = LOGOUT_TOKEN_MAX_AGE + 2 * rt.config.clockTolerance;
  if (!(await index.claimOnce(claims.jti, replayWindow))) {
    log('logout token refused: replayed jti');
    return reject(res, 'logout token invalid: it was already used');
  }

  // express-openid-connect's hook: the app ends the sessions itself.
  const hooks = rt.config.backchannelLogout;
  if (hooks !== false && hooks.onLogoutToken !== undefined) {
    await hooks.onLogoutToken({ ...claims }, rt.config);
    log('back-channel logout handed to onLogoutToken');
    res.status(200).set('Cache-Control', 'no-store').end();
    return;
  }

  // A sid names one OP session; only a token without one ends all of the user's sessions.
  const key = claims.sid !== undefined ? `sid:${claims.sid}` : `sub:${claims.sub as string}`;
  const sessionIds = await index.take(key);
  // The app's own express-session store, when it mounted one, else ours.
  const store: Store | undefined = req.sessionStore ?? rt.sessions.store;
  if (store !== undefined && sessionIds.length > 0) await destroyAll(store, index, key, sessionIds, rt);
  log('back-channel logout ended %d session(s)', sessionIds.length);
  res.status(200).set('Cache-Control', 'no-store').end();
}

/** Destroys each session; those that could not be destroyed are filed again, so a later logout finds them. */
async function destroyAll(store: Store, index: LogoutIndex, key: string, sessionIds: string[], rt: Runtime): Promise<void> {
  const results = await Promise.allSettled(
    sessionIds.map((sid) => new Promise<void>((resolve, reject) => store.destroy(sid, (err?: unknown) => (err ? reject(err) : resolve())))),
  );
  const failed = sessionIds.filter((_, i) => results[i]?.status === 'rejected');
  if (failed.length === 0) return;
  const { absoluteDuration, rollingDuration } = rt.config.session;
  const ttl = absoluteDuration === false ? rollingDuration : absoluteDuration;
  await Promise.allSettled(failed.map((sid) => index.add([key], sid, ttl)));
  const first = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason;
  throw storeUnavailable(first);
}
