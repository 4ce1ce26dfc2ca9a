import { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import type { Runtime } from '../runtime.js';
import { RequestContext } from './request-context.js';
import { ResponseContext } from './response-context.js';

/** Which `auth()` runtime the accessors on an Express app's request prototype serve. */
const owners = new WeakMap<object, Runtime>();

/** Errors of `res.oidc` methods go to the `next` of the handler that called them (Express sets `req.next`). */
function nextOf(res: Response): NextFunction {
  return (err?: unknown) => {
    const next = (res.req as Request & { next?: NextFunction }).next;
    if (typeof next !== 'function') throw err;
    next(err);
  };
}

function install(reqProto: object, resProto: object, rt: Runtime): void {
  const ownValue = (target: object, value: unknown) =>
    Object.defineProperty(target, 'oidc', { value, writable: true, configurable: true, enumerable: true });
  Object.defineProperty(reqProto, 'oidc', {
    configurable: true,
    // A context is a small view over the request's session, built per read: caching it per
    // request (a WeakMap entry for every request) costs the garbage collector more than it saves.
    get(this: Request): RequestContext {
      return new RequestContext(this, rt);
    },
    set(this: object, value: unknown) {
      ownValue(this, value);
    },
  });
  Object.defineProperty(resProto, 'oidc', {
    configurable: true,
    get(this: Response): ResponseContext {
      return new ResponseContext(this.req, this, nextOf(this), rt);
    },
    set(this: object, value: unknown) {
      ownValue(this, value);
    },
  });
  owners.set(reqProto, rt);
}

/**
 * Gives the request `req.oidc` and `res.oidc`. On an Express app's own
 * request and response prototypes they are accessors, installed once, that
 * build the context when first read: adding properties to every request is
 * slow in V8 once Express has swapped the prototypes, and most requests never
 * read them. A prototype that already serves another `auth()`, or a plain
 * Node request, gets the contexts as own properties instead.
 */
export function attachContext(req: Request, res: Response, next: NextFunction, rt: Runtime): void {
  const reqProto = Object.getPrototypeOf(req) as object;
  const owner = owners.get(reqProto);
  if (owner === rt) return;
  const resProto = Object.getPrototypeOf(res) as object;
  const installable =
    owner === undefined &&
    reqProto !== IncomingMessage.prototype &&
    resProto !== ServerResponse.prototype &&
    !Object.hasOwn(reqProto, 'oidc') &&
    !Object.hasOwn(resProto, 'oidc');
  if (installable) return install(reqProto, resProto, rt);
  req.oidc = new RequestContext(req, rt);
  res.oidc = new ResponseContext(req, res, next, rt);
}
