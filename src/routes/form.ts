import type { Request } from 'express';
import { OidcError } from '../errors.js';

/** Largest form body read (a callback or a password form is far smaller). */
const MAX_FORM_BYTES = 64 * 1024;

function badRequest(message: string, status = 400): OidcError {
  return new OidcError('ERR_BAD_REQUEST', message, { status });
}

/**
 * Reads an `application/x-www-form-urlencoded` body, bounded in size. When a
 * body parser already ran, its result is used instead.
 */
export async function readForm(req: Request): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') throw badRequest('expected an application/x-www-form-urlencoded body', 415);
  if (req.body !== undefined && typeof req.body === 'object' && req.body !== null && !Buffer.isBuffer(req.body)) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(req.body as Record<string, unknown>)) {
      if (typeof value === 'string') params.append(key, value);
      else if (Array.isArray(value)) for (const v of value) params.append(key, String(v));
      else throw badRequest(`parameter "${key.slice(0, 40)}" has an unexpected shape`);
    }
    return params;
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_FORM_BYTES) throw badRequest('request body too large', 413);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw badRequest('request body too large', 413);
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/**
 * The single value of a parameter. A repeated parameter is refused: which copy
 * wins differs between parsers, and attackers use that.
 */
export function single(params: URLSearchParams, name: string, maxLength: number): string | undefined {
  const values = params.getAll(name);
  if (values.length === 0) return undefined;
  if (values.length > 1) throw badRequest(`parameter "${name}" is repeated`);
  const value = values[0] as string;
  if (value.length > maxLength) throw badRequest(`parameter "${name}" is too long`);
  return value;
}
