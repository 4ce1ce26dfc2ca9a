/**
 * The Resource Owner Password grant for the demo OP (oidc-provider has none
 * built in), enough for example/password-login.js: the demo user's email and
 * password give an access token, an ID token, and a refresh token with
 * `offline_access`. Not for production: real OPs guard this grant with
 * brute-force protection, MFA and more.
 */
import { errors } from 'oidc-provider';

/** The scopes the demo OP knows (the others of a request are dropped). */
const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

/**
 * @param {import('oidc-provider').default} provider
 * @param {{ username: string, password: string, sub: string, name: string, nickname: string, email: string }} user the one account
 */
export function registerPasswordGrant(provider, user) {
  provider.registerGrantType(
    'password',
    async (ctx) => {
      const { params, client } = ctx.oidc;
      if (typeof params.username !== 'string' || typeof params.password !== 'string') {
        throw new errors.InvalidRequest('username and password are required');
      }
      if (params.username !== user.username || params.password !== user.password) {
        throw new errors.InvalidGrant('wrong email or password');
      }
      const scopes = String(params.scope ?? '').split(' ').filter((scope) => OIDC_SCOPES.has(scope));
      const grant = new provider.Grant({ accountId: user.sub, clientId: client.clientId });
      grant.addOIDCScope(scopes.join(' '));
      const grantId = await grant.save();

      const at = new provider.AccessToken({ accountId: user.sub, client, grantId, gty: 'password', scope: scopes.join(' ') });
      ctx.oidc.entity('AccessToken', at);
      const body = { access_token: await at.save(), token_type: at.tokenType, expires_in: at.expiration, scope: scopes.join(' ') };
      if (scopes.includes('offline_access')) {
        const rt = new provider.RefreshToken({ accountId: user.sub, client, grantId, gty: 'password', scope: scopes.join(' '), rotations: 0 });
        ctx.oidc.entity('RefreshToken', rt);
        body.refresh_token = await rt.save();
      }
      if (scopes.includes('openid')) {
        const claims = { sub: user.sub, name: user.name, nickname: user.nickname, email: user.email, email_verified: true };
        const idToken = new provider.IdToken(claims, { ctx });
        idToken.scope = scopes.join(' '); // only the claims of these scopes
        body.id_token = await idToken.issue({ use: 'idtoken' });
      }
      ctx.body = body;
    },
    ['username', 'password', 'scope'],
  );
}
