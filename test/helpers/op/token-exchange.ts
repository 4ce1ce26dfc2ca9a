import { randomBytes, randomUUID } from 'node:crypto';

import { EmbeddedJWK, SignJWT, calculateJwkThumbprint, createLocalJWKSet, importJWK, jwtVerify, type JWK } from 'jose';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC, TokenEndpointGrantContext } from 'oidc-provider';

import { findUserBySub, userClaims } from '../users.js';
import { OIDC_SCOPES, orgClaims } from './accounts.js';
import { publicJwk } from './keys.js';
import type { OPState } from './state.js';

/**
 * RFC 8693 token exchange and Auth0's federated connection access token exchange (Token Vault), as
 * Auth0 answers them where the library cares. Every request is in TestOP.tokenRequests (the front
 * records them as sent); these handlers check them and issue tokens.
 */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const FEDERATED_CONNECTION_GRANT = 'urn:auth0:params:oauth:grant-type:token-exchange:federated-connection-access-token';
export const FEDERATED_CONNECTION_TOKEN_TYPE = 'http://auth0.com/oauth/token-type/federated-connection-access-token';
export const SESSION_TRANSFER_TOKEN_TYPE = 'urn:auth0:params:oauth:token-type:session_transfer_token';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
export const REFRESH_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:refresh_token';
export const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';
export const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
/**
 * A Custom Token Exchange subject token type, as an Auth0 Action would validate it: the test OP
 * accepts `subject:<sub>` of a known user (see customSubjectToken).
 */
export const CUSTOM_SUBJECT_TOKEN_TYPE = 'urn:example:legacy-token';
/** The connections Token Vault knows, with the scope their tokens carry. */
export const CONNECTIONS: Record<string, string> = {
  'google-oauth2': 'https://www.googleapis.com/auth/calendar.readonly',
  github: 'repo read:user',
};

/** A subject token of CUSTOM_SUBJECT_TOKEN_TYPE for `sub`. */
export function customSubjectToken(sub: string): string {
  return `subject:${sub}`;
}

const EXCHANGE_PARAMS = [
  'subject_token',
  'subject_token_type',
  'actor_token',
  'actor_token_type',
  'requested_token_type',
  'audience',
  'resource',
  'scope',
  'organization',
];
const CONNECTION_PARAMS = ['subject_token', 'subject_token_type', 'requested_token_type', 'connection', 'login_hint'];

export function registerTokenExchangeGrants(op: Provider, state: OPState): void {
  op.registerGrantType(TOKEN_EXCHANGE_GRANT, (ctx) => tokenExchange(state, ctx), EXCHANGE_PARAMS);
  op.registerGrantType(FEDERATED_CONNECTION_GRANT, (ctx) => connectionExchange(state, ctx), CONNECTION_PARAMS);
}

function refuse(ctx: TokenEndpointGrantContext, status: number, error: string, description: string): void {
  ctx.status = status;
  ctx.body = { error, error_description: description };
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value.length > 0 ? value : undefined);

async function tokenExchange(state: OPState, ctx: TokenEndpointGrantContext): Promise<void> {
  const { params, client } = ctx.oidc;
  const subjectToken = text(params.subject_token);
  const subjectTokenType = text(params.subject_token_type);
  const actorToken = text(params.actor_token);
  const actorTokenType = text(params.actor_token_type);
  if (!subjectToken || !subjectTokenType) return refuse(ctx, 400, 'invalid_request', 'subject_token and subject_token_type are required');
  if (actorToken && !actorTokenType) return refuse(ctx, 400, 'invalid_request', 'actor_token_type is required with actor_token');

  const sub = await subjectOf(state, ctx, subjectToken, subjectTokenType);
  if (sub === null) return refuse(ctx, 400, 'invalid_request', 'unsupported subject_token_type');
  const user = sub === undefined ? undefined : findUserBySub(sub);
  if (!user) return refuse(ctx, 400, 'invalid_grant', 'the subject token is invalid');
  let actorSub: string | undefined;
  if (actorToken) {
    const actor = await subjectOf(state, ctx, actorToken, actorTokenType as string);
    if (!actor) return refuse(ctx, 400, 'invalid_grant', 'the actor token is invalid');
    actorSub = actor;
  }

  const dpop = await dpopThumbprint(state, ctx);
  if (dpop === null) return refuse(ctx, 400, 'invalid_dpop_proof', 'invalid DPoP proof');
  const audience = text(params.audience) ?? text(params.resource);
  const requested = (text(params.scope) ?? '').split(' ').filter(Boolean);
  const now = Math.floor(Date.now() / 1000);

  if (audience === `urn:${new URL(state.issuer).hostname}:session_transfer`) {
    if (!actorSub) return refuse(ctx, 400, 'setactor_required', 'a session transfer needs an actor');
    ctx.body = {
      access_token: `stt_${randomBytes(24).toString('base64url')}`,
      token_type: 'N_A',
      expires_in: 60,
      issued_token_type: state.options.sessionTransferIssuedTokenType ?? SESSION_TRANSFER_TOKEN_TYPE,
      ...(requested.length ? { scope: requested.join(' ') } : {}),
    };
    return;
  }

  const requestedType = text(params.requested_token_type) ?? ACCESS_TOKEN_TYPE;
  if (requestedType !== ACCESS_TOKEN_TYPE && requestedType !== JWT_TOKEN_TYPE) {
    return refuse(ctx, 400, 'invalid_request', 'unsupported requested_token_type');
  }
  const organization = text(params.organization);
  const key = state.privateJwks[0] as JWK;
  const apiScopes = requested.filter((scope) => !OIDC_SCOPES.has(scope));
  const accessToken = await new SignJWT({
    client_id: client.clientId,
    ...(apiScopes.length ? { scope: apiScopes.join(' ') } : {}),
    ...(actorSub ? { act: { sub: actorSub } } : {}),
    ...(dpop ? { cnf: { jkt: dpop } } : {}),
    ...orgClaims(organization),
  })
    .setProtectedHeader({ alg: 'RS256', kid: key.kid as string, typ: 'at+jwt' })
    .setIssuer(state.issuer)
    .setSubject(user.sub)
    .setAudience(audience ?? client.clientId)
    .setIssuedAt(now)
    .setExpirationTime(now + state.accessTokenTTL)
    .setJti(randomUUID())
    .sign(await importJWK(key, 'RS256'));

  const body: Record<string, unknown> = {
    access_token: accessToken,
    token_type: dpop ? 'DPoP' : 'Bearer',
    expires_in: state.accessTokenTTL,
    issued_token_type: requestedType,
    ...(requested.length ? { scope: requested.join(' ') } : {}),
  };
  if (requested.includes('openid')) {
    const oidcScopes = requested.filter((scope) => OIDC_SCOPES.has(scope));
    const idToken = new ctx.oidc.provider.IdToken({ ...userClaims(user), ...orgClaims(organization) }, { ctx });
    (idToken as unknown as { scope: string }).scope = oidcScopes.join(' ');
    body.id_token = await idToken.issue({ use: 'idtoken' });
  }
  ctx.body = body;
}

async function connectionExchange(state: OPState, ctx: TokenEndpointGrantContext): Promise<void> {
  const { params, client, provider } = ctx.oidc;
  if (params.subject_token_type !== REFRESH_TOKEN_TYPE) return refuse(ctx, 400, 'invalid_request', 'subject_token_type must be a refresh token');
  if (params.requested_token_type !== FEDERATED_CONNECTION_TOKEN_TYPE) {
    return refuse(ctx, 400, 'invalid_request', 'requested_token_type must be a federated connection access token');
  }
  const connection = text(params.connection);
  if (!connection) return refuse(ctx, 400, 'invalid_request', 'connection is required');
  const refreshToken = text(params.subject_token);
  const stored = refreshToken ? await provider.RefreshToken.find(refreshToken) : undefined;
  if (!stored || stored.isExpired || stored.consumed || stored.clientId !== client.clientId) {
    return refuse(ctx, 401, 'invalid_grant', 'the refresh token is invalid');
  }
  const scope = CONNECTIONS[connection];
  if (scope === undefined) return refuse(ctx, 401, 'federated_connection_refresh_token_not_found', 'the user has no account at this connection');
  ctx.body = {
    access_token: `${connection}-at-${randomBytes(18).toString('base64url')}`,
    token_type: 'Bearer',
    expires_in: state.options.connectionTokenTTL ?? 3600,
    issued_token_type: FEDERATED_CONNECTION_TOKEN_TYPE,
    scope,
  };
}

/**
 * The user a token stands for: undefined for a token of a known type that is invalid, null for a
 * type the OP does not take.
 */
async function subjectOf(state: OPState, ctx: KoaContextWithOIDC, token: string, type: string): Promise<string | undefined | null> {
  const keys = createLocalJWKSet({ keys: state.privateJwks.map(publicJwk) });
  switch (type) {
    case CUSTOM_SUBJECT_TOKEN_TYPE:
      return /^subject:(.+)$/.exec(token)?.[1];
    case ID_TOKEN_TYPE:
      try {
        const { payload } = await jwtVerify(token, keys, { issuer: state.issuer, audience: ctx.oidc.client?.clientId });
        return payload.sub;
      } catch {
        return undefined;
      }
    case ACCESS_TOKEN_TYPE: {
      // JWT access tokens (for an API) are not stored; opaque ones (for userinfo) are
      if (token.split('.').length === 3) {
        try {
          const { payload } = await jwtVerify(token, keys, { issuer: state.issuer });
          return payload.sub;
        } catch {
          return undefined;
        }
      }
      const stored = await ctx.oidc.provider.AccessToken.find(token);
      return stored && !stored.isExpired ? stored.accountId : undefined;
    }
    default:
      return null;
  }
}

/** The JWK thumbprint of a valid DPoP proof; undefined without one, null for an invalid one. */
async function dpopThumbprint(state: OPState, ctx: KoaContextWithOIDC): Promise<string | undefined | null> {
  const proof = ctx.get('dpop');
  if (!proof) return undefined;
  try {
    const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', maxTokenAge: '5m' });
    if (payload.htm !== 'POST' || payload.htu !== `${state.issuer}/token` || typeof payload.jti !== 'string') return null;
    return await calculateJwkThumbprint(protectedHeader.jwk as JWK);
  } catch {
    return null;
  }
}
