import type Provider from 'oidc-provider';
import type { TokenEndpointGrantContext } from 'oidc-provider';

import { checkCredentials, userClaims, type TestUser } from '../users.js';
import { OIDC_SCOPES, findAccount, resourceServerInfo, sessionExpiryClaim } from './accounts.js';
import { issueMfaToken } from './mfa.js';
import { PASSWORD_REALM_GRANT } from './clients.js';
import type { OPState } from './state.js';

/** Auth0's password grants: `password`, and `password-realm` with a realm (a connection). */
export function registerPasswordGrants(op: Provider, state: OPState): void {
  const passwordParams = ['username', 'password', 'scope', 'audience', 'realm', 'resource'];
  const handler = (ctx: TokenEndpointGrantContext) => passwordGrant(state, ctx);
  op.registerGrantType('password', handler, passwordParams);
  op.registerGrantType(PASSWORD_REALM_GRANT, handler, passwordParams);
}

async function passwordGrant(state: OPState, ctx: TokenEndpointGrantContext): Promise<void> {
  const { params } = ctx.oidc;
  const realmGrant = params.grant_type === PASSWORD_REALM_GRANT;

  if (typeof params.username !== 'string' || typeof params.password !== 'string') {
    ctx.status = 400;
    ctx.body = { error: 'invalid_request', error_description: 'Missing required parameter: username and password' };
    return;
  }
  if (realmGrant && typeof params.realm !== 'string') {
    ctx.status = 400;
    ctx.body = { error: 'invalid_request', error_description: 'Missing required parameter: realm' };
    return;
  }
  const user = checkCredentials(params.username, params.password, realmGrant ? params.realm : undefined);
  if (!user) {
    ctx.status = 403;
    ctx.body = { error: 'invalid_grant', error_description: 'Wrong email or password.' };
    return;
  }
  if (user.passwordError) {
    const { status, ...body } = user.passwordError;
    ctx.status = status;
    ctx.body = body;
    return;
  }
  // handle() already copied `audience` into `resource`
  const scope = typeof params.scope === 'string' ? params.scope : undefined;
  const resource = typeof params.resource === 'string' ? params.resource : undefined;
  if (user.mfa) {
    ctx.status = 403;
    ctx.body = {
      error: 'mfa_required',
      error_description: 'Multifactor authentication required',
      mfa_token: issueMfaToken(state, { sub: user.sub, clientId: ctx.oidc.client.clientId, scope, resource }),
    };
    return;
  }
  await issueTokens(state, ctx, user, { scope, resource, amr: ['pwd'] });
}

/**
 * The token response of a password-based login (the password grant, and the MFA grants that
 * finish one): access token, refresh token with offline_access, ID token with openid.
 */
export async function issueTokens(
  state: OPState,
  ctx: TokenEndpointGrantContext,
  user: TestUser,
  request: { scope: string | undefined; resource: string | undefined; amr: string[]; acr?: string },
): Promise<void> {
  const { client, provider: op } = ctx.oidc;
  const { resource } = request;
  const requested = request.scope === undefined ? [] : request.scope.split(' ').filter(Boolean);
  const oidcScopes = requested.filter((scope) => OIDC_SCOPES.has(scope));
  if (resource !== undefined && !URL.canParse(resource)) {
    ctx.status = 400;
    ctx.body = { error: 'invalid_target', error_description: 'resource indicator must be an absolute URI' };
    return;
  }

  // a Grant, so that the refresh_token grant (which validates it) works for these tokens too
  const grant = new op.Grant({ accountId: user.sub, clientId: client.clientId });
  if (oidcScopes.length) grant.addOIDCScope(oidcScopes.join(' '));
  const resourceServer = resource ? new op.ResourceServer(resource, resourceServerInfo(state, resource)) : undefined;
  const resourceScopes = resourceServer ? requested.filter((scope) => resourceServer.scopes.has(scope)) : [];
  if (resource && resourceScopes.length) grant.addResourceScope(resource, resourceScopes.join(' '));
  const grantId = await grant.save();

  const account = await findAccount(state, ctx, user.sub);
  ctx.oidc.entity('Account', account);

  const at = new op.AccessToken({ accountId: user.sub, client, grantId, gty: 'password', expiresWithSession: false });
  if (resourceServer) {
    at.resourceServer = resourceServer; // makes it a JWT with aud = resource
    at.scope = resourceScopes.join(' ') || undefined;
  } else {
    at.scope = oidcScopes.join(' ') || undefined;
  }
  ctx.oidc.entity('AccessToken', at);
  const accessToken = await at.save();

  const body: Record<string, unknown> = {
    access_token: accessToken,
    token_type: at.tokenType,
    expires_in: at.expiration,
    scope: [...oidcScopes, ...resourceScopes].join(' ') || undefined,
  };

  if (oidcScopes.includes('offline_access') && client.grantTypeAllowed('refresh_token')) {
    const rt = new op.RefreshToken({
      accountId: user.sub,
      client,
      grantId,
      gty: 'password',
      scope: [...oidcScopes, ...resourceScopes].join(' '),
      resource,
      rotations: 0,
      expiresWithSession: false,
    });
    ctx.oidc.entity('RefreshToken', rt);
    body.refresh_token = await rt.save();
  }

  if (oidcScopes.includes('openid')) {
    const idToken = new op.IdToken(userClaims(user), { ctx });
    // set() adds claims past the scope mask, as oidc-provider does for acr and auth_time
    idToken.set('amr', request.amr);
    if (request.acr !== undefined) idToken.set('acr', request.acr);
    for (const [claim, value] of Object.entries(sessionExpiryClaim(state))) idToken.set(claim, value);
    // the Claims mask: only claims of these scopes end up in the token
    (idToken as unknown as { scope: string }).scope = oidcScopes.join(' ');
    body.id_token = await idToken.issue({ use: 'idtoken' });
  }

  ctx.body = body;
}
