import type * as oidc from 'openid-client';
import { debug } from '../debug.js';

const log = debug('op');

/** The discovery document's endpoints, by the short name the log gives them. */
const ENDPOINTS: ReadonlyArray<[keyof oidc.ServerMetadata, string]> = [
  ['token_endpoint', 'token'],
  ['userinfo_endpoint', 'userinfo'],
  ['revocation_endpoint', 'revocation'],
  ['pushed_authorization_request_endpoint', 'par'],
  ['introspection_endpoint', 'introspection'],
  ['jwks_uri', 'jwks'],
];

/** The log's name for an OP URL: its endpoint's short name, else its path (never its query). */
export function endpointName(url: string, metadata: Partial<oidc.ServerMetadata> | undefined): string {
  const bare = url.split(/[?#]/, 1)[0] as string;
  const aliases = (metadata?.mtls_endpoint_aliases ?? {}) as Record<string, unknown>;
  for (const [key, name] of ENDPOINTS) {
    if (metadata?.[key] === bare || aliases[key] === bare) return name;
  }
  try {
    return new URL(bare).pathname;
  } catch {
    return 'request';
  }
}

/** Milliseconds since `started`, rounded, for a log line. */
export const since = (started: number): number => Math.round(performance.now() - started);

/**
 * `fetcher`, with a log line per OP call: `token 35 ms (HTTP 200)`. Does
 * nothing more than call `fetcher` while logging is off.
 */
export function timed<F extends (url: string, options: never) => Promise<Response>>(
  fetcher: F,
  metadata: Partial<oidc.ServerMetadata> | undefined,
): F {
  return (async (url: string, options: never) => {
    if (!log.enabled) return fetcher(url, options);
    const started = performance.now();
    try {
      const response = await fetcher(url, options);
      log('%s %d ms (HTTP %d)', endpointName(url, metadata), since(started), response.status);
      return response;
    } catch (err) {
      log.warn('%s failed after %d ms (%s)', endpointName(url, metadata), since(started), (err as Error)?.name ?? 'error');
      throw err;
    }
  }) as F;
}
