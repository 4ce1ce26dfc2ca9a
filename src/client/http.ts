import type * as oidc from 'openid-client';
import { OidcError } from '../errors.js';
import type { RequestOptions } from './requests.js';
import type { CustomFetch } from './transport.js';

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
 * Calls `base` (the app's `customFetch`, or the global fetch) with `signal`,
 * and settles when the signal fires even if `base` ignores it: the timeout
 * and the caller's abort bound every request, whatever fetch the app brings.
 */
export function boundedFetch(base: CustomFetch | undefined, url: string, init: RequestInit, signal: AbortSignal): Promise<Response> {
  if (base === undefined) return fetch(url, { ...init, signal });
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<Response>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const settle = () => signal.removeEventListener('abort', onAbort);
    base(url, { ...init, signal }).then(
      (response) => {
        settle();
        resolve(response);
      },
      (err: unknown) => {
        settle();
        reject(err);
      },
    );
  });
}

/**
 * fetch for openid-client with the caller's extra headers and abort signal,
 * and `timeout` ms at most, through the app's `customFetch` when it has one;
 * `onResponse` may read a response (a clone) first.
 */
export function createFetch(
  timeout: number,
  request?: RequestOptions,
  onResponse?: (url: string, response: Response) => Promise<void>,
  base?: CustomFetch,
): oidc.CustomFetch {
  return async (url, options) => {
    const headers = new Headers(options.headers as HeadersInit);
    for (const [name, value] of Object.entries(request?.headers ?? {})) {
      if (!RESERVED_HEADERS.has(name.toLowerCase())) headers.set(name, value);
    }
    const signals = [options.signal, request?.signal, AbortSignal.timeout(timeout)].filter((s): s is AbortSignal => s !== undefined);
    let response: Response;
    try {
      response = await boundedFetch(base, url, { ...options, headers } as RequestInit, AbortSignal.any(signals));
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
