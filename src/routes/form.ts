import type { Request } from 'express';
import { OidcError } from '../errors.js';

/** Largest form body read (a callback or a password form is far smaller). */
const MAX_FORM_BYTES = 64 * 1024;

/** Messages are fixed texts: the parameter at fault goes into `parameter`, never into the message. */
function badRequest(message: string, status = 400, parameter?: string): OidcError {
  return new OidcError('ERR_BAD_REQUEST', message, { status, ...(parameter === undefined ? {} : { parameter }) });
}

/**
 * Reads an `application/x-www-form-urlencoded` body, bounded in size. When a
 * body parser already read the body, its result is used instead; a parser that
 * did not read it (such as `express.json()` on a form, which leaves an empty
 * `req.body` on Express 4) is ignored and the body is read here.
 *
 * @example
 * ```ts
 * const params = await readForm(req);
 * const state = single(params, 'state', 256);
 * ```
 */
export async function readForm(req: Request): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') throw badRequest('expected an application/x-www-form-urlencoded body', 415);
  if (req.readableEnded) return parsedBody(req.body);
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_FORM_BYTES) {
    req.resume(); // let the body drain, so the 413 reaches the client
    throw badRequest('request body too large', 413);
  }
  const body = await readBounded(req);
  return new URLSearchParams(body.toString('utf8'));
}

/** What a body parser left in `req.body`, as form parameters. */
function parsedBody(body: unknown): URLSearchParams {
  if (Buffer.isBuffer(body) || typeof body === 'string') return new URLSearchParams(body.toString());
  if (typeof body !== 'object' || body === null) throw badRequest('the request body was read by another parser and is not available');
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    if (typeof value === 'string') params.append(key, value);
    else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) for (const v of value) params.append(key, v);
    // The name is request data (an attacker's markup, with a body parser's nested syntax): not in the message.
    else throw badRequest('a form parameter has an unexpected shape (nested or not a string)', 400, key);
  }
  return params;
}

/**
 * Reads the body up to MAX_FORM_BYTES. Beyond that it stops keeping data but
 * lets the rest drain instead of destroying the socket, so the client gets a
 * clean 413 rather than a reset connection.
 */
function readBounded(req: Request): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_FORM_BYTES) return void chunks.push(chunk);
      stop();
      req.resume();
      reject(badRequest('request body too large', 413));
    };
    const onEnd = () => {
      stop();
      resolve(Buffer.concat(chunks));
    };
    const onError = () => {
      stop();
      reject(badRequest('the request body could not be read'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/**
 * The single value of a parameter. A repeated parameter is refused: which copy
 * wins differs between parsers, and attackers use that. `name` is one of the
 * library's own fixed parameter names, never one read from the request.
 */
export function single(params: URLSearchParams, name: string, maxLength: number): string | undefined {
  const values = params.getAll(name);
  if (values.length === 0) return undefined;
  if (values.length > 1) throw badRequest(`parameter "${name}" is repeated`, 400, name);
  const value = values[0] as string;
  if (value.length > maxLength) throw badRequest(`parameter "${name}" is too long`, 400, name);
  return value;
}

/**
 * Drops the query from `req.url` and `req.originalUrl` once the route has
 * read it. Express's router prints `req.originalUrl` in its debug log
 * (`DEBUG=express:*` on Express 4, `DEBUG=router` on 5) for every layer it
 * passes the request to: after this, the layers that come later (the app's
 * error handler, when the callback fails) log the path without the
 * authorization code.
 */
export function forgetQuery(req: Request): void {
  const strip = (url: string) => url.split('?', 1)[0] as string;
  req.url = strip(req.url);
  if (typeof req.originalUrl === 'string') req.originalUrl = strip(req.originalUrl);
}
