import type * as oidc from 'openid-client';
import { OidcError } from '../errors.js';
import type { RequestOptions } from './requests.js';

/** Headers the protocol sets itself; a caller's extra headers never replace them. */
const RESERVED_HEADERS = new Set(['authorization', 'content-type', 'dpop', 'content-length', 'host']);

/** RFC 9110 field names; values of visible bytes, spaces and tabs only (no header injection). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Refuses headers fetch would reject, naming the header but never echoing its value. */
export function checkHeaders(headers: Record<string, string> | undefined): void {
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (!HEADER_NAME.test(name) || typeof value !== 'string' || !HEADER_VALUE.test(value)) {
      throw new OidcError('ERR_BAD_REQUEST', `request header "${HEADER_NAME.test(name) ? name : 'invalid name'}" is not a valid header`, { status: 400 });
    }
  }
}

/** Set by `createFetch` on a failed request's error: the URL (without query) it went to. */
export const REQUEST_URL = Symbol('express-oidc.requestUrl');

export function isLoopbackHttp(url: URL): boolean {
  return url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}

/**
 * fetch for openid-client with the caller's extra headers and abort signal,
 * and `timeout` ms at most; `onResponse` may read a response (a clone) first.
 */
export function createFetch(
  timeout: number,
  request?: RequestOptions,
  onResponse?: (url: string, response: Response) => Promise<void>,
): oidc.CustomFetch {
  return async (url, options) => {
    const headers = new Headers(options.headers as HeadersInit);
    for (const [name, value] of Object.entries(request?.headers ?? {})) {
      if (!RESERVED_HEADERS.has(name.toLowerCase())) headers.set(name, value);
    }
    const signals = [options.signal, request?.signal, AbortSignal.timeout(timeout)].filter((s): s is AbortSignal => s !== undefined);
    let response: Response;
    try {
      response = await fetch(url, { ...options, headers, signal: AbortSignal.any(signals) } as RequestInit);
    } catch (err) {
      // Remember where the request went, for an error that says which OP could not be reached.
      if (typeof err === 'object' && err !== null) {
        const target = new URL(url);
        Object.defineProperty(err, REQUEST_URL, { value: `${target.origin}${target.pathname}`, enumerable: false });
      }
      throw err;
    }
    if (onResponse) await onResponse(url, response);
    return response;
  };
}
