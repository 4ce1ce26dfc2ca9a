import * as oidc from 'openid-client';
import type { ClientCore } from '../core.js';
import { failure, finish, grant, idTokenCheckFailed } from '../grant.js';
import type { IdTokenValidationOptions } from '../id-token.js';
import {
  cleanExtra,
  type CodeExchangeChecks,
  type LoginWithAuthCodeRequest,
  type LoginWithAuthCodeWithPKCERequest,
  type RequestOptions,
} from '../requests.js';
import type { TokenEndpointResponse, TokenSet } from '../token-set.js';

/** Authorization code exchange for a confidential client. */
export async function loginWithAuthCode(
  core: ClientCore,
  body: LoginWithAuthCodeRequest,
  validation?: IdTokenValidationOptions,
  request?: RequestOptions,
): Promise<TokenSet> {
  const params = { code: body.code, redirect_uri: body.redirectUri };
  return grant(core, 'authorization_code', { ...cleanExtra(body.extra), ...params }, body, validation, request);
}

/** Authorization code exchange with the PKCE verifier. */
export async function loginWithAuthCodeWithPKCE(
  core: ClientCore,
  body: LoginWithAuthCodeWithPKCERequest,
  validation?: IdTokenValidationOptions,
  request?: RequestOptions,
): Promise<TokenSet> {
  const params = { code: body.code, code_verifier: body.codeVerifier, redirect_uri: body.redirectUri };
  return grant(core, 'authorization_code', { ...cleanExtra(body.extra), ...params }, body, validation, request);
}

/** Exchanges the code from a callback whose parameters passed the state and issuer checks. */
export async function exchangeCode(
  core: ClientCore,
  callbackParams: URLSearchParams,
  checks: CodeExchangeChecks,
  request?: RequestOptions,
): Promise<TokenSet> {
  const { config, server } = await core.configuration({}, request);
  const currentUrl = new URL(checks.redirectUri);
  for (const [key, value] of callbackParams) currentUrl.searchParams.append(key, value);
  let response: TokenEndpointResponse;
  try {
    response = await oidc.authorizationCodeGrant(
      config,
      currentUrl,
      {
        pkceCodeVerifier: checks.codeVerifier,
        expectedState: checks.state,
        expectedNonce: checks.nonce,
        idTokenExpected: true,
        ...(checks.maxAge === undefined ? {} : { maxAge: checks.maxAge }),
      },
      { ...core.tokenEndpointParams },
      await core.dpopOptions(config),
    );
  } catch (err) {
    throw failure(err, 'code exchange', request?.signal, idTokenCheckFailed(err) ? 'ERR_ID_TOKEN_INVALID' : 'ERR_INVALID_RESPONSE');
  }
  const validation: IdTokenValidationOptions = { nonce: checks.nonce };
  if (checks.maxAge !== undefined) validation.maxAge = checks.maxAge;
  if (checks.organization !== undefined) validation.organization = checks.organization;
  return finish(core, response, server, core.clientID, validation);
}
