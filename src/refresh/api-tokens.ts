import type { TokenSet } from '../client/token-set.js';
import type { OidcSession } from '../session/data.js';

/** One API's access token, as the session keeps it (under `oidc.apis`, by `apiKey`). */
export interface ApiToken {
  audience: string;
  access_token: string;
  token_type: string;
  /** Epoch seconds. */
  expires_at?: number;
  /** Epoch seconds the token was issued (caps the refresh leeway for short-lived tokens). */
  issued_at: number;
  scope?: string;
  /** Epoch milliseconds of the last use, for least-recently-used eviction. */
  used: number;
}

/** The per-API tokens of a session, by `apiKey`. */
export type ApiTokens = Record<string, ApiToken>;

/** The cache key of an API token: its audience and its scope, in a canonical order. */
export function apiKey(audience: string, scope: string | undefined): string {
  const scopes = scope === undefined ? [] : [...new Set(scope.split(' ').filter(Boolean))].sort();
  return `${audience} ${scopes.join(' ')}`;
}

/** The session's per-API tokens (an empty object when it has none). */
export function apiTokensOf(data: OidcSession): ApiTokens {
  const apis = data.apis;
  return typeof apis === 'object' && apis !== null ? (apis as ApiTokens) : {};
}

/**
 * `session` with the token for `key` set from a grant's answer, a new
 * object; beyond `max` APIs the least recently used are dropped.
 */
export function withApiToken(session: OidcSession, key: string, audience: string, tokens: TokenSet, now: number, max: number): OidcSession {
  const token: ApiToken = {
    audience,
    access_token: tokens.accessToken,
    token_type: tokens.tokenType,
    issued_at: Math.floor(now / 1000),
    used: now,
    ...(tokens.expiresAt === undefined ? {} : { expires_at: tokens.expiresAt }),
    ...(tokens.scope === undefined ? {} : { scope: tokens.scope }),
  };
  const entries = Object.entries(apiTokensOf(session)).filter(([k]) => k !== key);
  entries.sort(([, x], [, y]) => y.used - x.used);
  const kept = entries.slice(0, Math.max(0, max - 1));
  return { ...session, apis: Object.fromEntries([[key, token], ...kept]) };
}
