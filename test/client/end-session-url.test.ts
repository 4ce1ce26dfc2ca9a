/**
 * AuthClient.endSessionUrl for an OP without end_session_endpoint. Auth0's `/v2/logout` is used
 * for issuers on *.auth0.com only, and that hostname is the point: the in-process OP listens on
 * 127.0.0.1 over http and cannot be an https *.auth0.com issuer, so here discovery is answered by
 * a stubbed fetch (the only HTTP stub in these tests), serving Auth0-shaped metadata.
 */
import { jest } from '@jest/globals';
import { AuthClient } from '../../src/client/auth-client.js';
import { OidcError } from '../../src/errors.js';

function metadata(issuer: string, extra: Record<string, unknown> = {}) {
  return {
    issuer: `${issuer}/`,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/oauth/token`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    response_types_supported: ['code'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    ...extra,
  };
}

/** Serves discovery for `issuer`; anything else is an error, so no other request can slip through. */
function stubDiscovery(issuer: string, extra: Record<string, unknown> = {}) {
  return jest.spyOn(globalThis, 'fetch').mockImplementation(async (input) => {
    const url = String(input instanceof Request ? input.url : input);
    if (url === `${issuer}/.well-known/openid-configuration`) {
      return new Response(JSON.stringify(metadata(issuer, extra)), { status: 200, headers: { 'content-type': 'application/json' } });
    }
    throw new Error(`unexpected request to ${url}`);
  });
}

afterEach(() => jest.restoreAllMocks());

test('an Auth0 issuer without end_session_endpoint: /v2/logout with client_id and returnTo', async () => {
  const issuer = 'https://tenant.eu.auth0.com';
  stubDiscovery(issuer);
  const client = new AuthClient({ issuerBaseURL: `${issuer}/`, clientID: 'client-1', clientSecret: 'secret' });
  const url = new URL(
    await client.endSessionUrl({ idTokenHint: 'header.payload.signature', postLogoutRedirectUri: 'https://app.example.com/', extra: { federated: '' } }),
  );
  expect(`${url.origin}${url.pathname}`).toBe(`${issuer}/v2/logout`);
  expect(url.searchParams.get('client_id')).toBe('client-1');
  expect(url.searchParams.get('returnTo')).toBe('https://app.example.com/');
  expect(url.searchParams.has('federated')).toBe(true);
  // Auth0's /v2/logout takes no id_token_hint: the token does not travel in a URL for nothing.
  expect(url.searchParams.has('id_token_hint')).toBe(false);
});

test('an Auth0 issuer that advertises end_session_endpoint: the OIDC endpoint is used', async () => {
  const issuer = 'https://tenant.auth0.com';
  stubDiscovery(issuer, { end_session_endpoint: `${issuer}/oidc/logout` });
  const client = new AuthClient({ issuerBaseURL: issuer, clientID: 'client-1', clientSecret: 'secret' });
  const url = new URL(await client.endSessionUrl({ idTokenHint: 'h.p.s', postLogoutRedirectUri: 'https://app.example.com/' }));
  expect(`${url.origin}${url.pathname}`).toBe(`${issuer}/oidc/logout`);
  expect(url.searchParams.get('id_token_hint')).toBe('h.p.s');
  expect(url.searchParams.get('post_logout_redirect_uri')).toBe('https://app.example.com/');
});

test('another issuer without end_session_endpoint: ERR_LOGOUT_UNSUPPORTED', async () => {
  const issuer = 'https://login.example.com';
  stubDiscovery(issuer);
  const client = new AuthClient({ issuerBaseURL: issuer, clientID: 'client-1', clientSecret: 'secret' });
  const err = await client.endSessionUrl({ postLogoutRedirectUri: 'https://app.example.com/' }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(OidcError);
  expect((err as OidcError).code).toBe('ERR_LOGOUT_UNSUPPORTED');
});

test('a lookalike host (auth0.com.evil.example) is not treated as Auth0', async () => {
  const issuer = 'https://tenant.auth0.com.evil.example';
  stubDiscovery(issuer);
  const client = new AuthClient({ issuerBaseURL: issuer, clientID: 'client-1', clientSecret: 'secret' });
  const err = await client.endSessionUrl({ postLogoutRedirectUri: 'https://app.example.com/' }).catch((e: unknown) => e);
  expect((err as OidcError).code).toBe('ERR_LOGOUT_UNSUPPORTED');
});
