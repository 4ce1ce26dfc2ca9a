import type { ClientMetadata } from 'oidc-provider';

import { FEDERATED_CONNECTION_GRANT, TOKEN_EXCHANGE_GRANT } from './token-exchange.js';

export const TEST_CLIENT_ID = 'test-client';
export const TEST_CLIENT_SECRET = 'test-client-secret-that-is-long-enough-000';
export const POST_CLIENT_SECRET = 'post-client-secret-that-is-long-enough-000';
export const M2M_CLIENT_SECRET = 'm2m-client-secret-that-is-long-enough-0000';
export const PASSWORD_REALM_GRANT = 'http://auth0.com/oauth/grant-type/password-realm';
/** Auth0's MFA grants (mfa.ts), allowed for the test client */
export const MFA_GRANTS = [
  'http://auth0.com/oauth/grant-type/mfa-otp',
  'http://auth0.com/oauth/grant-type/mfa-oob',
  'http://auth0.com/oauth/grant-type/mfa-recovery-code',
];

/** The clients registered when options.clients is not given. */
export function defaultClients(appBaseURL: string): ClientMetadata[] {
  const common = {
    redirect_uris: [`${appBaseURL}/callback`],
    post_logout_redirect_uris: [appBaseURL, `${appBaseURL}/`],
    backchannel_logout_uri: `${appBaseURL}/backchannel-logout`,
    backchannel_logout_session_required: true,
  };
  return [
    {
      ...common,
      client_id: TEST_CLIENT_ID,
      client_secret: TEST_CLIENT_SECRET,
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials', 'password', PASSWORD_REALM_GRANT, TOKEN_EXCHANGE_GRANT, FEDERATED_CONNECTION_GRANT, ...MFA_GRANTS],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      ...common,
      client_id: 'public-client',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    },
    {
      ...common,
      client_id: 'post-client',
      client_secret: POST_CLIENT_SECRET,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
    },
    {
      ...common,
      client_id: 'm2m-client',
      client_secret: M2M_CLIENT_SECRET,
      grant_types: ['client_credentials'],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ];
}
