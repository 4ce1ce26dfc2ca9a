/**
 * Token exchange for the demo OP, as Auth0 answers it where express-oidc
 * cares: RFC 8693 token exchange (Custom Token Exchange, with actor tokens,
 * and session transfer tokens) and Auth0 Token Vault's federated connection
 * access token exchange, with one connected provider, `demo-calendar`.
 *
 * Not for production: any signed-in demo user may exchange anything.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { SignJWT, createLocalJWKSet, importJWK, jwtVerify } from 'jose';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const FEDERATED_CONNECTION_GRANT = 'urn:auth0:params:oauth:grant-type:token-exchange:federated-connection-access-token';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';
const REFRESH_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:refresh_token';
const FEDERATED_TOKEN_TYPE = 'http://auth0.com/oauth/token-type/federated-connection-access-token';
const SESSION_TRANSFER_TOKEN_TYPE = 'urn:auth0:params:oauth:token-type:session_transfer_token';

/** The connected providers the demo's Token Vault knows, with the scope of their tokens. */
export const DEMO_CONNECTIONS = { 'demo-calendar': 'calendar.read' };

/**
 * Registers both grants on `provider`.
 * @param {import('oidc-provider').default} provider
 * @param {{ issuer: string, signingKey: object, accessTokenTTL: number }} options
 */
export function registerTokenExchange(provider, { issuer, signingKey, accessTokenTTL }) {
  const publicKey = { ...signingKey };
  for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) delete publicKey[member];
  const keys = createLocalJWKSet({ keys: [publicKey] });

  /** The user a token stands for, or undefined. */
  async function subjectOf(ctx, token, type) {
    try {
      if (type === ID_TOKEN_TYPE) return (await jwtVerify(token, keys, { issuer, audience: ctx.oidc.client.clientId })).payload.sub;
      if (type !== ACCESS_TOKEN_TYPE) return undefined;
      if (token.split('.').length === 3) return (await jwtVerify(token, keys, { issuer })).payload.sub;
      const stored = await provider.AccessToken.find(token);
      return stored && !stored.isExpired ? stored.accountId : undefined;
    } catch {
      return undefined;
    }
  }

  const refuse = (ctx, status, error, description) => {
    ctx.status = status;
    ctx.body = { error, error_description: description };
  };

  provider.registerGrantType(
    TOKEN_EXCHANGE_GRANT,
    async (ctx) => {
      const { subject_token, subject_token_type, actor_token, actor_token_type, audience, scope } = ctx.oidc.params;
      if (!subject_token || !subject_token_type) return refuse(ctx, 400, 'invalid_request', 'subject_token and subject_token_type are required');
      if (actor_token && !actor_token_type) return refuse(ctx, 400, 'invalid_request', 'actor_token_type is required with actor_token');
      const sub = await subjectOf(ctx, subject_token, subject_token_type);
      if (!sub) return refuse(ctx, 400, 'invalid_grant', 'the subject token is invalid');
      const actor = actor_token ? await subjectOf(ctx, actor_token, actor_token_type) : undefined;
      if (actor_token && !actor) return refuse(ctx, 400, 'invalid_grant', 'the actor token is invalid');

      if (audience === `urn:${new URL(issuer).hostname}:session_transfer`) {
        if (!actor) return refuse(ctx, 400, 'setactor_required', 'a session transfer needs an actor');
        ctx.body = { access_token: `stt_${randomBytes(24).toString('base64url')}`, token_type: 'N_A', expires_in: 60, issued_token_type: SESSION_TRANSFER_TOKEN_TYPE };
        return;
      }
      const now = Math.floor(Date.now() / 1000);
      const apiScope = (scope ?? '').split(' ').filter((s) => s && !['openid', 'profile', 'email', 'offline_access'].includes(s)).join(' ');
      const accessToken = await new SignJWT({ client_id: ctx.oidc.client.clientId, ...(apiScope ? { scope: apiScope } : {}), ...(actor ? { act: { sub: actor } } : {}) })
        .setProtectedHeader({ alg: 'RS256', kid: signingKey.kid, typ: 'at+jwt' })
        .setIssuer(issuer)
        .setSubject(sub)
        .setAudience(audience ?? ctx.oidc.client.clientId)
        .setIssuedAt(now)
        .setExpirationTime(now + accessTokenTTL)
        .setJti(randomUUID())
        .sign(await importJWK(signingKey, 'RS256'));
      ctx.body = { access_token: accessToken, token_type: 'Bearer', expires_in: accessTokenTTL, issued_token_type: ACCESS_TOKEN_TYPE, ...(apiScope ? { scope: apiScope } : {}) };
    },
    ['subject_token', 'subject_token_type', 'actor_token', 'actor_token_type', 'requested_token_type', 'audience', 'scope', 'organization'],
  );

  provider.registerGrantType(
    FEDERATED_CONNECTION_GRANT,
    async (ctx) => {
      const { subject_token, subject_token_type, requested_token_type, connection } = ctx.oidc.params;
      if (subject_token_type !== REFRESH_TOKEN_TYPE || requested_token_type !== FEDERATED_TOKEN_TYPE || !connection) {
        return refuse(ctx, 400, 'invalid_request', 'a refresh token, the federated connection token type and a connection are required');
      }
      const stored = subject_token ? await provider.RefreshToken.find(subject_token) : undefined;
      if (!stored || stored.isExpired || stored.consumed || stored.clientId !== ctx.oidc.client.clientId) {
        return refuse(ctx, 401, 'invalid_grant', 'the refresh token is invalid');
      }
      if (!(connection in DEMO_CONNECTIONS)) return refuse(ctx, 401, 'federated_connection_refresh_token_not_found', 'no account at this connection');
      ctx.body = {
        access_token: `${connection}-${randomBytes(18).toString('base64url')}`,
        token_type: 'Bearer',
        expires_in: 3600,
        issued_token_type: FEDERATED_TOKEN_TYPE,
        scope: DEMO_CONNECTIONS[connection],
      };
    },
    ['subject_token', 'subject_token_type', 'requested_token_type', 'connection', 'login_hint'],
  );
}
