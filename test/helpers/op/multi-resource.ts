import type { OPState } from './state.js';

/**
 * Auth0's Multi-Resource Refresh Token: a refresh token may be redeemed for
 * an access token of any API the client's policy lists
 * (`multiResourceRefreshToken`), not only the one of the login. oidc-provider
 * accepts a `resource` at the token endpoint only when the refresh token was
 * issued for it, so before such a grant the API is added to the refresh
 * token's resources and to its grant, with the resource server's scopes.
 */
/** APIs outside the policy are refused with `invalid_target`; returns 'refused' then. */
export function allowListedResource(state: OPState, params: URLSearchParams): 'refused' | undefined {
  const allowed = state.options.multiResourceRefreshToken;
  const resource = params.get('resource') ?? params.get('audience');
  if (!allowed?.length || params.get('grant_type') !== 'refresh_token' || !resource) return undefined;
  // Refused before oidc-provider sees it: it would rotate the refresh token first, and the
  // rotated one would be lost with the error (Auth0 checks the API before rotating).
  if (!allowed.includes(resource)) return 'refused';
  const token = state.store.entries.get(`RefreshToken:${params.get('refresh_token') ?? ''}`);
  if (token === undefined) return undefined;
  const payload = token.payload as { resource?: string | string[]; grantId?: string; scope?: string };
  // The policy's scopes become the refresh token's too (oidc-provider grants no scope beyond them).
  payload.scope = [...new Set([...(payload.scope ?? '').split(' '), ...state.resourceScope.split(' ')].filter(Boolean))].join(' ');
  const resources = payload.resource === undefined ? [] : Array.isArray(payload.resource) ? payload.resource : [payload.resource];
  if (!resources.includes(resource)) payload.resource = [...resources, resource];
  const grant = state.store.entries.get(`Grant:${payload.grantId ?? ''}`)?.payload as { resources?: Record<string, string> } | undefined;
  if (grant !== undefined) grant.resources = { ...grant.resources, [resource]: grant.resources?.[resource] ?? state.resourceScope };
  return undefined;
}
