import type { Account, KoaContextWithOIDC, ResourceServer } from 'oidc-provider';

import { findUserBySub, userClaims } from '../users.js';
import type { OPState } from './state.js';

export const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

/** Auth0 puts an organization id (org_...) in org_id and an organization name in org_name. */
export function orgClaims(organization: string | undefined): Record<string, string> {
  if (!organization) return {};
  return organization.startsWith('org_') ? { org_id: organization } : { org_name: organization };
}

/** The `organization` that applies to the token request being handled, if any. */
export function organizationFor(state: OPState, ctx: KoaContextWithOIDC): string | undefined {
  const { entities } = ctx.oidc;
  if (entities.AuthorizationCode) return state.orgByCode.get(entities.AuthorizationCode.jti);
  if (entities.RefreshToken?.grantId) return state.orgByGrant.get(entities.RefreshToken.grantId);
  return undefined;
}

/** The IPSIE SL1 `session_expiry` claim (epoch seconds) when options.sessionExpiry gives one. */
export function sessionExpiryClaim(state: OPState): { session_expiry?: number } {
  const at = state.options.sessionExpiry?.();
  return at === undefined ? {} : { session_expiry: at };
}

/** Every audience is a resource server issuing JWT access tokens with the configured scopes. */
export function resourceServerInfo(state: OPState, identifier: string): ResourceServer {
  return {
    scope: state.resourceScope,
    audience: identifier,
    accessTokenFormat: 'jwt',
    accessTokenTTL: state.accessTokenTTL,
    jwt: { sign: { alg: 'RS256' } },
  };
}

export async function findAccount(state: OPState, ctx: KoaContextWithOIDC, sub: string): Promise<Account | undefined> {
  const user = findUserBySub(sub);
  if (!user) return undefined;
  return {
    accountId: user.sub,
    // oidc-provider filters these by the granted scopes (see `claims` in the configuration)
    async claims(use: string) {
      const claims = userClaims(user);
      return use === 'id_token' ? { ...claims, ...orgClaims(organizationFor(state, ctx)), ...sessionExpiryClaim(state) } : claims;
    },
  };
}

/**
 * Keeps the `organization` of an authorization request with the code it issued, then with the
 * code's grant once the code is exchanged, so later refreshes of the grant keep it.
 */
export function trackOrganization(state: OPState, oidc: KoaContextWithOIDC['oidc'], tokenResponse: boolean): void {
  const code = oidc.entities.AuthorizationCode;
  if (tokenResponse) {
    if (!code?.grantId) return;
    const organization = state.orgByCode.get(code.jti);
    state.orgByCode.delete(code.jti);
    if (organization) state.orgByGrant.set(code.grantId, organization);
    else state.orgByGrant.delete(code.grantId);
  } else if (code) {
    // an authorization endpoint response issued a code (route 'authorization' or 'resume')
    const organization = oidc.params?.organization;
    if (typeof organization === 'string' && organization) state.orgByCode.set(code.jti, organization);
  }
}
