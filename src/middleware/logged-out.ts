import type { Request, Response } from 'express';
import type { BackchannelLogoutOptions } from '../config/types.js';
import { debug } from '../debug.js';
import type { Runtime } from '../runtime.js';

const log = debug('backchannel-logout');

export type IsLoggedOut = Exclude<BackchannelLogoutOptions['isLoggedOut'], false | undefined>;

/**
 * express-openid-connect's `backchannelLogout.isLoggedOut` hook: asked on each
 * request with a signed-in session; when it answers true the session is
 * ended (destroyed in the store, cookie cleared) before the route runs, so the
 * route sees an anonymous request.
 */
export async function endIfLoggedOut(rt: Runtime, isLoggedOut: IsLoggedOut, req: Request, res: Response): Promise<void> {
  if (req.session?.oidc === undefined) return;
  if ((await isLoggedOut(req, rt.config)) !== true) return;
  log('isLoggedOut answered true; the session is ended');
  await rt.sessions.end(req, res);
}
