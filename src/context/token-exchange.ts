import type { Request } from 'express';
import { decodeJwt } from 'jose';
import { ID_TOKEN_TYPE, checkFields, checkToken, invalid, misuse } from '../client/token-exchange/index.js';
import type { CustomTokenExchangeRequest, ExchangeParamValue, TokenExchangeResult } from '../client/token-exchange/index.js';
import { hideFields } from '../printing.js';
import { isLoopbackHttp } from '../client/http.js';
import { OidcError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { nowSeconds } from '../session/data.js';

/** Options of `req.oidc.customTokenExchange()`: those of `AuthClient.customTokenExchange()`, all optional. */
export interface CustomTokenExchangeOptions extends Partial<Omit<CustomTokenExchangeRequest, 'clientID' | 'clientSecret'>> {}

/** Options of `req.oidc.requestSessionTransferToken()`. */
export interface SessionTransferTokenOptions {
  /** The token of the user the new session is for; your Custom Token Exchange Action validates it. */
  subjectToken: string;
  /** Its type URI (your Action's). */
  subjectTokenType: string;
  /** The acting party's token; default: the session's ID token. */
  actorToken?: string;
  /** The type URI of `actorToken` (default `urn:ietf:params:oauth:token-type:id_token`). */
  actorTokenType?: string;
  /** Organization name or `org_...` ID of the transferred session. */
  organization?: string;
  /** Scopes of the transferred session's tokens. */
  scope?: string;
  /** Further parameters for your Action (`event.request.body`); reserved parameters are refused. */
  extra?: Record<string, ExchangeParamValue>;
}

/** A session transfer token: opaque, single use, short-lived (about a minute). Hand it to `buildSessionTransferRedirect()`. */
export interface SessionTransferTokenResult {
  /** The token; `buildSessionTransferRedirect()` puts it in the target's login URL. */
  sessionTransferToken: string;
  /** Always `urn:auth0:params:oauth:token-type:session_transfer_token`. */
  issuedTokenType: string;
  /** Seconds it is valid for. */
  expiresIn?: number;
  /** The OP's `token_type` (Auth0: `N_A`, informational). */
  tokenType: string;
  /** Scopes of the transferred session, when the OP states them. */
  scope?: string;
}

/** Options of `req.oidc.buildSessionTransferRedirect()`. */
export interface SessionTransferRedirectOptions {
  /** Organization to name in the redirect (when the token is for one). */
  organization?: string;
}

export const SESSION_TRANSFER_TOKEN_TYPE = 'urn:auth0:params:oauth:token-type:session_transfer_token';

const EXCHANGE_FIELDS = ['subjectToken', 'subjectTokenType', 'actorToken', 'actorTokenType', 'requestedTokenType', 'audience', 'scope', 'organization', 'extra'];
const TRANSFER_FIELDS = ['subjectToken', 'subjectTokenType', 'actorToken', 'actorTokenType', 'organization', 'scope', 'extra'];

/** Internal: what the request context hands these operations. */
export interface ExchangeContext {
  req: Request;
  rt: Runtime;
  /** A fresh access token of the session (refreshed when due). */
  accessToken(): Promise<string>;
  /** Refreshes the session's tokens now. */
  refresh(): Promise<void>;
}

/**
 * `req.oidc.customTokenExchange()`: the subject token defaults to the
 * session's (fresh) access token, `audience` and `scope` to those of
 * `authorizationParams`.
 */
export async function customTokenExchange(ctx: ExchangeContext, options: CustomTokenExchangeOptions = {}): Promise<TokenExchangeResult> {
  const what = 'customTokenExchange';
  checkFields(options, EXCHANGE_FIELDS, what);
  let subjectToken = options.subjectToken;
  if (subjectToken === undefined) {
    const session = ctx.req.session?.oidc;
    if (session === undefined) throw new OidcError('ERR_NOT_AUTHENTICATED', `${what}: no "subjectToken" and no signed-in session`, { status: 401 });
    if (session.access_token === undefined && session.refresh_token === undefined) throw invalid(what, 'no "subjectToken", and the session has no access token');
    subjectToken = await ctx.accessToken();
  }
  const { audience, scope } = ctx.rt.config.authorizationParams;
  return ctx.rt.client.customTokenExchange({
    ...(audience === undefined ? {} : { audience }),
    ...(scope === undefined ? {} : { scope }),
    ...options,
    subjectToken,
  });
}

/**
 * `req.oidc.requestSessionTransferToken()`: a token exchange for the tenant's
 * `urn:<issuer host>:session_transfer` audience, with the session's ID token
 * as the actor (refreshed first when it expired) unless `actorToken` is given.
 */
export async function requestSessionTransferToken(ctx: ExchangeContext, options: SessionTransferTokenOptions): Promise<SessionTransferTokenResult> {
  const what = 'requestSessionTransferToken';
  checkFields(options, TRANSFER_FIELDS, what);
  // Checked before the actor is resolved: a request that cannot be sent refreshes nothing.
  checkToken(options.subjectToken, 'subjectToken', what);
  if (typeof options.subjectTokenType !== 'string' || options.subjectTokenType.trim() === '') throw invalid(what, '"subjectTokenType" is required');
  let actorToken = options.actorToken;
  let actorTokenType = options.actorTokenType;
  if (actorToken === undefined) {
    if (actorTokenType !== undefined) throw invalid(what, '"actorTokenType" was given without "actorToken"');
    actorToken = await sessionActor(ctx, what);
    actorTokenType = ID_TOKEN_TYPE;
  } else {
    actorTokenType ??= ID_TOKEN_TYPE;
  }

  const audience = `urn:${new URL(ctx.rt.config.issuerBaseURL).hostname}:session_transfer`;
  let result: TokenExchangeResult;
  try {
    result = await ctx.rt.client.customTokenExchange({ ...options, actorToken, actorTokenType, audience });
  } catch (err) {
    if (err instanceof OidcError && err.code === 'ERR_TOKEN_EXCHANGE_FAILED') {
      throw new OidcError('ERR_SESSION_TRANSFER_FAILED', err.message.replace('token-exchange grant', 'session transfer'), {
        status: err.status,
        ...(err.error === undefined ? {} : { error: err.error }),
        ...(err.errorDescription === undefined ? {} : { errorDescription: err.errorDescription }),
      });
    }
    if (err instanceof OidcError && err.code === 'ERR_TOKEN_EXCHANGE_INVALID') {
      throw new OidcError(err.code, err.message.replace('customTokenExchange', what), { status: err.status });
    }
    throw err;
  }
  if (result.issuedTokenType !== SESSION_TRANSFER_TOKEN_TYPE) {
    throw new OidcError('ERR_SESSION_TRANSFER_FAILED', `${what}: the OP issued another token type than a session transfer token`, {
      status: 502,
      error: 'invalid_token_response',
    });
  }
  return hideFields(
    {
      sessionTransferToken: result.accessToken,
      issuedTokenType: result.issuedTokenType,
      tokenType: result.tokenType,
      ...(result.expiresIn === undefined ? {} : { expiresIn: result.expiresIn }),
      ...(result.scope === undefined ? {} : { scope: result.scope }),
    },
    'SessionTransferTokenResult',
    ['sessionTransferToken'],
  );
}

/**
 * `req.oidc.buildSessionTransferRedirect()`: `targetLoginUrl` with the token
 * (and the organization) in its query. The URL must be the app's own,
 * trusted value, https (http only on loopback): the token is a credential.
 */
export function buildSessionTransferRedirect(targetLoginUrl: string, result: SessionTransferTokenResult, options: SessionTransferRedirectOptions = {}): string {
  const what = 'buildSessionTransferRedirect';
  if (typeof result !== 'object' || result === null || result.issuedTokenType !== SESSION_TRANSFER_TOKEN_TYPE) {
    throw misuse(what, `"result" must be what requestSessionTransferToken() returned (issuedTokenType "${SESSION_TRANSFER_TOKEN_TYPE}")`);
  }
  if (typeof result.sessionTransferToken !== 'string' || result.sessionTransferToken === '') throw misuse(what, '"result" has no sessionTransferToken');
  if (typeof options !== 'object' || options === null) throw misuse(what, '"options" must be an object');
  for (const key of Object.keys(options)) if (key !== 'organization') throw misuse(what, `unknown option "${/^\w{1,64}$/.test(key) ? key : 'invalid name'}"`);
  const organization = options.organization;
  if (organization !== undefined && (typeof organization !== 'string' || organization.trim() === '')) throw misuse(what, '"organization" must be a non-empty string');
  let url: URL;
  try {
    url = new URL(targetLoginUrl);
  } catch {
    throw misuse(what, '"targetLoginUrl" must be an absolute URL');
  }
  if (url.protocol !== 'https:' && !isLoopbackHttp(url)) throw misuse(what, '"targetLoginUrl" must be https (http is allowed for localhost only)');
  url.searchParams.set('session_transfer_token', result.sessionTransferToken);
  if (organization !== undefined) url.searchParams.set('organization', organization);
  return url.href;
}

/** The session's ID token as the actor, refreshed first when it expired. */
async function sessionActor(ctx: ExchangeContext, what: string): Promise<string> {
  const unavailable = (why: string) => new OidcError('ERR_ACTOR_UNAVAILABLE', `${what}: no actor: ${why}`, { status: 401, error: 'actor_unavailable' });
  const session = ctx.req.session?.oidc;
  if (session === undefined) throw unavailable('no signed-in session (sign in, or pass "actorToken")');
  if (!expired(session.id_token)) return session.id_token;
  if (session.refresh_token === undefined) throw unavailable('the ID token expired and the session has no refresh token');
  try {
    await ctx.refresh();
  } catch {
    throw unavailable('the ID token expired and the session could not be refreshed');
  }
  const refreshed = ctx.req.session?.oidc?.id_token;
  if (refreshed === undefined || expired(refreshed)) throw unavailable('the refresh brought no new ID token');
  return refreshed;
}

function expired(idToken: string): boolean {
  try {
    const { exp } = decodeJwt(idToken);
    return typeof exp === 'number' && exp <= nowSeconds();
  } catch {
    return true;
  }
}
