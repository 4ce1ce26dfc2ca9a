import * as oidc from 'openid-client';
import { toOidcError } from '../client/errors.js';
import { boundedFetch, isLoopbackHttp } from '../client/http.js';
import type { CustomFetch } from '../client/transport.js';
import { debug } from '../debug.js';
import { OidcError } from '../errors.js';
import type { DPoPKey } from './key.js';

const log = debug('resource');

/** Seconds a resource server call may take unless the caller's `signal` ends it sooner. */
export const RESOURCE_TIMEOUT_SECONDS = 30;

/** The request to a resource server: a subset of `fetch`'s `RequestInit`. */
export interface ProtectedResourceInit {
  /** Default `GET`. */
  method?: string;
  /** Extra headers; `Authorization` and `DPoP` are set by the library and cannot be given here. */
  headers?: HeadersInit;
  /**
   * The body. A stream cannot be sent twice, so a nonce challenge cannot be
   * answered with one: prefer a string, bytes or `URLSearchParams`.
   */
  body?: string | Uint8Array | ArrayBuffer | URLSearchParams | ReadableStream | null;
  /** Aborts the request (combined with the built-in 30 s limit). */
  signal?: AbortSignal;
}

/**
 * An access token as a string, as `req.oidc.accessToken` / `getAccessToken()`
 * return it (`access_token`, `token_type`), or as a `TokenSet` (`accessToken`,
 * `tokenType`). A plain string is sent with DPoP when the client has a DPoP key.
 */
export type ProtectedResourceToken = string | { access_token: string; token_type?: string } | { accessToken: string; tokenType?: string };

/** Headers only the library sets. */
const OWN_HEADERS = ['authorization', 'dpop'];


/**
 * Whether no answer came: fetch's "fetch failed", an abort or a timeout,
 * possibly wrapped by openid-client. Read by name, not class, as errors may
 * come from another realm.
 */
function networkFailure(err: unknown): 'timeout' | 'unreachable' | undefined {
  let current = err as { name?: unknown; message?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth += 1) {
    if (current.name === 'TimeoutError') return 'timeout';
    if (current.name === 'AbortError') return 'unreachable';
    if (current.name === 'TypeError' && typeof current.message === 'string' && /fetch failed/i.test(current.message)) return 'unreachable';
    current = current.cause as typeof current;
  }
  return undefined;
}

function tokenOf(token: ProtectedResourceToken, dpop: DPoPKey | undefined): { value: string; dpopBound: boolean } {
  if (typeof token === 'string') return { value: token, dpopBound: dpop !== undefined };
  const value = 'accessToken' in token ? token.accessToken : token.access_token;
  const type = 'accessToken' in token ? token.tokenType : token.token_type;
  return { value, dpopBound: type === undefined ? dpop !== undefined : type.toLowerCase() === 'dpop' };
}

/**
 * Calls a resource server with an access token: `Authorization: DPoP` plus a
 * fresh proof (`htm`, `htu`, `ath`) for a DPoP-bound token, `Authorization:
 * Bearer` otherwise. A `use_dpop_nonce` challenge is answered once with the
 * server's nonce (which is remembered for the next calls to that origin).
 * Any HTTP answer, 401 included, comes back as the `Response`; only a failure
 * to get one throws.
 */
export async function fetchProtectedResource(
  makeConfig: (fetcher: oidc.CustomFetch) => oidc.Configuration,
  dpop: DPoPKey | undefined,
  token: ProtectedResourceToken,
  target: string | URL,
  init: ProtectedResourceInit = {},
  base?: CustomFetch,
): Promise<Response> {
  const { value, dpopBound } = tokenOf(token, dpop);
  if (typeof value !== 'string' || value.length === 0) {
    throw new OidcError('ERR_BAD_REQUEST', 'resource request: no access token to send', { status: 500 });
  }
  if (dpopBound && dpop === undefined) {
    throw new OidcError('ERR_DPOP', 'resource request: the access token is DPoP-bound but no DPoP key is configured (useDPoP)', { status: 500 });
  }
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new OidcError('ERR_BAD_REQUEST', 'resource request: the URL is not an absolute URL', { status: 500 });
  }
  if (url.protocol !== 'https:' && !isLoopbackHttp(url)) {
    throw new OidcError('ERR_BAD_REQUEST', 'resource request: the URL must be https (http is allowed for localhost only)', { status: 500 });
  }

  const headers = new Headers(init.headers);
  for (const name of OWN_HEADERS) headers.delete(name);
  const fetcher: oidc.CustomFetch = (input, options) => {
    const signals = [options.signal, init.signal].filter((s): s is AbortSignal => s !== undefined);
    return boundedFetch(base, input, options as RequestInit, AbortSignal.any(signals));
  };
  const config = makeConfig(fetcher);
  config.timeout = RESOURCE_TIMEOUT_SECONDS;
  if (isLoopbackHttp(url)) oidc.allowInsecureRequests(config);

  const method = (init.method ?? 'GET').toUpperCase();
  try {
    const options = dpopBound && dpop !== undefined ? { DPoP: await dpop.handle(config) } : undefined;
    return await oidc.fetchProtectedResource(config, value, url, method, init.body ?? null, headers, options);
  } catch (err) {
    // openid-client turns any WWW-Authenticate answer into an error (after its one nonce retry);
    // for the app it is an ordinary response to look at.
    if (err instanceof oidc.WWWAuthenticateChallengeError) {
      log('resource server answered %d with a challenge', err.status);
      return err.response;
    }
    if (err instanceof OidcError) throw err;
    if (init.signal?.aborted === true) {
      log('resource request aborted by the caller');
      throw new OidcError('ERR_ABORTED', 'resource request: aborted by the caller', { status: 499 });
    }
    const failed = networkFailure(err);
    if (failed !== undefined) {
      log('resource request failed (%s)', failed);
      throw new OidcError(
        'ERR_RESOURCE_UNREACHABLE',
        `resource request: the resource server ${failed === 'timeout' ? 'did not answer in time' : 'could not be reached'}`,
        { status: failed === 'timeout' ? 504 : 502 },
      );
    }
    throw new OidcError('ERR_BAD_REQUEST', toOidcError(err, 'resource request', 'ERR_BAD_REQUEST').message, { status: 500 });
  }
}
