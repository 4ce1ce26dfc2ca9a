import type { TLSSocket } from 'node:tls';

import type { Configuration, JWKS } from 'oidc-provider';

import { ACR_VALUES, interactionPolicyFor } from './step-up.js';

import { memoryAdapter } from '../memory-adapter.js';
import { errorPage, logoutPage, logoutSuccessPage } from '../op-views.js';
import { OIDC_SCOPES, findAccount, orgClaims, organizationFor, resourceServerInfo } from './accounts.js';
import type { OPState } from './state.js';

/** The oidc-provider configuration: Auth0-like claims, scopes, parameters and features. */
export function configuration(state: OPState): Configuration {
  const built = baseConfiguration(state);
  if (state.mtlsOrigin !== undefined) addMtls(built, state.mtlsOrigin);
  state.options.configure?.(built);
  return built;
}

/**
 * RFC 8705 on the client-certificate port: tls_client_auth against the test CA (subject DN),
 * self_signed_tls_client_auth against the client's registered certificate, certificate-bound
 * tokens, and the port advertised as mtls_endpoint_aliases.
 */
function addMtls(built: Configuration, origin: string): void {
  const peer = (ctx: { req: { socket: unknown } }) => (ctx.req.socket as TLSSocket).getPeerX509Certificate?.();
  built.features = {
    ...built.features,
    mTLS: {
      enabled: true,
      certificateBoundAccessTokens: true,
      tlsClientAuth: true,
      selfSignedTlsClientAuth: true,
      getCertificate: (ctx) => peer(ctx),
      certificateAuthorized: (ctx) => (ctx.req.socket as TLSSocket).authorized === true,
      certificateSubjectMatches: (ctx, property, expected) => property === 'tls_client_auth_subject_dn' && peer(ctx)?.subject === expected,
    },
  };
  built.clientAuthMethods = ['client_secret_basic', 'client_secret_jwt', 'client_secret_post', 'private_key_jwt', 'none', 'tls_client_auth', 'self_signed_tls_client_auth'];
  built.discovery = {
    ...built.discovery,
    mtls_endpoint_aliases: {
      token_endpoint: `${origin}/token`,
      pushed_authorization_request_endpoint: `${origin}/request`,
      revocation_endpoint: `${origin}/token/revocation`,
      userinfo_endpoint: `${origin}/me`,
      introspection_endpoint: `${origin}/token/introspection`,
    },
  };
}

function baseConfiguration(state: OPState): Configuration {
  const { options, store, clients, privateJwks, cookieKeys, dpopNonceSecret, accessTokenTTL, idTokenTTL, refreshTokenTTL } = state;
  const { dpop } = options;
  const requireDpopNonce = typeof dpop === 'object' && dpop.requireNonce;
  return {
    adapter: memoryAdapter(store),
    clients,
    jwks: { keys: privateJwks } as JWKS,
    findAccount: (ctx, sub) => findAccount(state, ctx, sub),
    cookies: {
      keys: cookieKeys,
      // the browser shares cookies between the app and the OP (same host, other port): distinct
      // names keep the OP's cookies from clashing with an app's
      names: { session: 'op_session', interaction: 'op_interaction', resume: 'op_interaction_resume' },
    },
    claims: {
      // acr, amr and auth_time in every ID token, not only when the request asks for them
      openid: ['sub', 'org_id', 'org_name', 'session_expiry', 'acr', 'amr', 'auth_time'],
      profile: ['name', 'nickname', 'preferred_username'],
      email: ['email', 'email_verified'],
      acr: null,
      auth_time: null,
      iss: null,
      sid: null,
    },
    scopes: [...OIDC_SCOPES],
    extraParams: ['audience', 'organization', 'invitation', 'connection'],
    // like Auth0: profile/email claims go into the ID token even when an access token for the
    // userinfo endpoint is issued (oidc-provider's default keeps them for userinfo only)
    conformIdTokenClaims: false,
    // refresh tokens whenever the client may use them, not only with offline_access + consent
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: options.rotateRefreshTokens ?? true,
    ...(options.pkceRequired === undefined ? {} : { pkce: { required: () => options.pkceRequired === true } }),
    ttl: {
      AccessToken: accessTokenTTL,
      ClientCredentials: accessTokenTTL,
      IdToken: idTokenTTL,
      RefreshToken: refreshTokenTTL,
      AuthorizationCode: 60,
      Interaction: 3600,
      Session: 86400,
      Grant: Math.max(14 * 86400, refreshTokenTTL),
    },
    acrValues: [...ACR_VALUES],
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}`, policy: interactionPolicyFor(state) },
    extraTokenClaims: (ctx, token) => {
      const organization =
        token.kind === 'ClientCredentials'
          ? (state.rawParams.get(ctx.req)?.get('organization') ?? undefined)
          : organizationFor(state, ctx);
      return orgClaims(organization);
    },
    renderError: (ctx, out) => {
      ctx.type = 'html';
      ctx.body = errorPage(out as unknown as Record<string, unknown>);
    },
    // oidc-provider's fetch refuses special-use addresses (127.0.0.1 among them) to prevent SSRF;
    // our back-channel logout receivers live there, so drop its guarding dispatcher
    fetch: (url, init) => {
      const unguarded: RequestInit & { dispatcher?: unknown } = { ...init };
      delete unguarded.dispatcher;
      return fetch(url, unguarded);
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) => {
          ctx.type = 'html';
          ctx.body = logoutPage(ctx.host, form);
        },
        postLogoutSuccessSource: (ctx) => {
          ctx.type = 'html';
          ctx.body = logoutSuccessPage(ctx.oidc.client?.clientId);
        },
      },
      pushedAuthorizationRequests: {
        enabled: options.pushedAuthorizationRequests ?? true,
        requirePushedAuthorizationRequests: options.requirePushedAuthorizationRequests ?? false,
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx, _client, oneOf) => oneOf,
        // use the resource (audience) of the authorization request at the token endpoint even
        // when openid was requested and the token request names no resource: Auth0's behaviour.
        // A refresh token that several APIs may use (multi-resource.ts) has no single one to default to.
        useGrantedResource: (_ctx, model) => !Array.isArray((model as { resource?: unknown }).resource),
        getResourceServerInfo: (_ctx, resourceIndicator) => resourceServerInfo(state, resourceIndicator),
      },
      dPoP: dpop
        ? {
            enabled: true,
            ...(requireDpopNonce ? { nonceSecret: dpopNonceSecret, requireNonce: () => true } : {}),
          }
        : { enabled: false },
    },
  };
}
