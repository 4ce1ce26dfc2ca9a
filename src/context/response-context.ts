import type { NextFunction, Request, Response } from 'express';
import type { LoginOptions } from '../config/types.js';
import type { Runtime } from '../runtime.js';
import { callback, type CallbackOptions } from '../routes/callback.js';
import { login } from '../routes/login.js';
import { logout, type LogoutOptions } from '../routes/logout.js';

/** `res.oidc`: start a login, a logout, or finish a callback from the app's own routes. Errors go to `next`. */
export class ResponseContext {
  readonly #req: Request;
  readonly #res: Response;
  readonly #next: NextFunction;
  readonly #rt: Runtime;

  /** @internal `auth()` builds one per request. */
  constructor(req: Request, res: Response, next: NextFunction, rt: Runtime) {
    this.#req = req;
    this.#res = res;
    this.#next = next;
    this.#rt = rt;
  }

  login(options?: LoginOptions): Promise<void> {
    return login(this.#rt, this.#req, this.#res, options).catch(this.#next);
  }

  logout(options?: LogoutOptions): Promise<void> {
    return logout(this.#rt, this.#req, this.#res, options).catch(this.#next);
  }

  callback(options?: CallbackOptions): Promise<void> {
    return callback(this.#rt, this.#req, this.#res, options).catch(this.#next);
  }
}
