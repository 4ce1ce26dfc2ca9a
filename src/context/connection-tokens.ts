import type { Request } from 'express';
import type { SessionData } from 'express-session';
import { checkFields, invalid } from '../client/token-exchange/index.js';
import { hideFields } from '../printing.js';
import { debug } from '../debug.js';
import { OidcError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { processRefreshLock, sessionLockKey, withLock } from '../refresh/lock.js';
import { refreshHoldMs } from '../refresh/refresher.js';
import { SingleFlight } from '../refresh/single-flight.js';
import { storeCall } from '../refresh/store-calls.js';
import { nowSeconds, type OidcSession } from '../session/data.js';
import { copyTokens } from '../session/guarded-store.js';

const log = debug('token-vault');

/** Options of `req.oidc.getAccessTokenForConnection()`. */
export interface AccessTokenForConnectionOptions {
  /** The connection (e.g. `google-oauth2`) whose provider's access token is wanted. */
  connection: string;
  /** Which of the user's accounts at the provider, when they linked several. */
  loginHint?: string;
}

/** A connected provider's access token, as nextjs-auth0 hands it out. */
export interface ConnectionAccessToken {
  /** The provider's access token. */
  token: string;
  /** How to present it, as the OP said (usually `Bearer`). */
  tokenType: string;
  /** Epoch seconds it expires at, when the OP said. */
  expiresAt?: number;
  /** The scopes the provider granted. */
  scope?: string;
  /** The connection it is for. */
  connection: string;
}

/** One cached connection token, in the session next to the user's own tokens (never in a cookie). */
interface CachedConnectionToken {
  access_token: string;
  token_type: string;
  expires_at: number;
  /** Epoch seconds it was received (for the leeway of short-lived tokens, and eviction). */
  received_at: number;
  scope?: string;
}

type WithConnectionTokens = OidcSession & { connection_tokens?: Record<string, CachedConnectionToken> };

/** Most connection tokens one session keeps; the oldest go first. */
export const MAX_CONNECTION_TOKENS = 20;

/** Exchanges in flight, per runtime, session and connection: concurrent requests of a session share one. */
const inflight = new WeakMap<Runtime, SingleFlight<CachedConnectionToken | ConnectionAccessToken>>();

/**
 * `req.oidc.getAccessTokenForConnection()`: from the session while fresh
 * (until `refreshLeeway` before it expires), else exchanged for the
 * session's refresh token and cached per connection and login hint. A
 * refusal leaves the user signed in.
 */
export async function accessTokenForConnection(req: Request, rt: Runtime, options: AccessTokenForConnectionOptions): Promise<ConnectionAccessToken> {
  const what = 'getAccessTokenForConnection';
  checkFields(options, ['connection', 'loginHint'], what);
  const { connection, loginHint } = options;
  if (typeof connection !== 'string' || connection.trim() === '') throw invalid(what, '"connection" is required');
  if (loginHint !== undefined && (typeof loginHint !== 'string' || loginHint.trim() === '')) throw invalid(what, '"loginHint" must be a non-empty string');

  const session = req.session?.oidc as WithConnectionTokens | undefined;
  if (session === undefined) throw new OidcError('ERR_NOT_AUTHENTICATED', 'the request has no signed-in session', { status: 401 });
  const key = JSON.stringify([connection, loginHint ?? null]);
  const cached = session.connection_tokens?.[key];
  // Fresh by the rule of the session's own token (refreshLeeway, at most half of a short lifetime).
  if (cached !== undefined && !rt.refresher.needsRefresh({ access_token: cached.access_token, expires_at: cached.expires_at, issued_at: cached.received_at } as OidcSession)) {
    return handOut(cached, connection);
  }
  if (session.refresh_token === undefined) {
    throw new OidcError('ERR_REFRESH_UNAVAILABLE', `${what}: the session has no refresh token (ask for offline_access)`, { status: 401 });
  }

  let flights = inflight.get(rt);
  if (flights === undefined) inflight.set(rt, (flights = new SingleFlight()));
  const result = await flights.run(`${req.sessionID}\n${key}`, () => exchangeFor(req, rt, session, connection, loginHint));
  if (!('access_token' in result)) return result; // no lifetime: handed out, not kept
  // Signed out (or signed in as someone else) meanwhile: the token is not kept for the new session.
  const current = req.session?.oidc as WithConnectionTokens | undefined;
  if (current !== undefined && current.created_at === session.created_at) store(current, key, result);
  return handOut(result, connection);
}

/**
 * The exchange, under the session's refresh lock and with the newest stored
 * refresh token: a refresh of the same session (on this instance or another)
 * may have rotated the one this request loaded, and presenting a rotated
 * refresh token can look like token theft to the OP.
 */
async function exchangeFor(
  req: Request,
  rt: Runtime,
  loaded: OidcSession,
  connection: string,
  loginHint: string | undefined,
): Promise<CachedConnectionToken | ConnectionAccessToken> {
  const { config } = rt;
  const holdMs = refreshHoldMs(config);
  // The refresher's lock and key: a refresh and an exchange of one session never overlap.
  return withLock(config.refreshLock ?? processRefreshLock, sessionLockKey(req.sessionID), { holdMs, waitMs: holdMs + 1_000 }, async () => {
    const stored = (await storeCall<SessionData | null>((cb) => req.sessionStore.get(req.sessionID, cb)))?.oidc;
    if (stored === undefined) throw new OidcError('ERR_NOT_AUTHENTICATED', 'the session ended', { status: 401 });
    const newest = stored.v > loaded.v ? stored : loaded;
    // This request continues with the newer tokens too.
    if (newest !== loaded) copyTokens(loaded, stored);
    if (newest.refresh_token === undefined) {
      throw new OidcError('ERR_REFRESH_UNAVAILABLE', 'getAccessTokenForConnection: the session has no refresh token', { status: 401 });
    }
    const tokens = await rt.client.getAccessTokenForConnection({
      connection,
      refreshToken: newest.refresh_token,
      ...(loginHint === undefined ? {} : { loginHint }),
    });
    log('connection access token obtained');
    if (tokens.expiresAt === undefined) {
      return handOutOf(tokens.accessToken, tokens.tokenType, undefined, tokens.scope, connection);
    }
    return {
      access_token: tokens.accessToken,
      token_type: tokens.tokenType,
      expires_at: tokens.expiresAt,
      received_at: nowSeconds(),
      ...(tokens.scope === undefined ? {} : { scope: tokens.scope }),
    };
  });
}

/** Keeps the token, bounded: expired entries go first, then the oldest received. */
function store(session: WithConnectionTokens, key: string, entry: CachedConnectionToken): void {
  const tokens = { ...session.connection_tokens };
  delete tokens[key];
  tokens[key] = entry;
  const now = nowSeconds();
  for (const [k, e] of Object.entries(tokens)) if (e.expires_at <= now) delete tokens[k];
  const keys = Object.keys(tokens).sort((a, b) => (tokens[a] as CachedConnectionToken).received_at - (tokens[b] as CachedConnectionToken).received_at);
  while (keys.length > MAX_CONNECTION_TOKENS) delete tokens[keys.shift() as string];
  session.connection_tokens = tokens;
}

function handOut(entry: CachedConnectionToken, connection: string): ConnectionAccessToken {
  return handOutOf(entry.access_token, entry.token_type, entry.expires_at, entry.scope, connection);
}

function handOutOf(token: string, tokenType: string, expiresAt: number | undefined, scope: string | undefined, connection: string): ConnectionAccessToken {
  return hideFields(
    {
      token,
      tokenType,
      ...(expiresAt === undefined ? {} : { expiresAt }),
      ...(scope === undefined ? {} : { scope }),
      connection,
    },
    'ConnectionAccessToken',
    ['token'],
  );
}
