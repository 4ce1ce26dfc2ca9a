import { OidcError, type ErrorCode } from '../../errors.js';
import type { ClientCore } from '../core.js';
import { finish, sendGrant } from '../grant.js';
import type { IdTokenValidationOptions } from '../id-token.js';
import type { RequestOptions } from '../requests.js';
import { actClaim } from './params.js';
import { hideFields } from '../../printing.js';
import type { ExchangeClient, TokenExchangeResult } from './requests.js';

/**
 * Sends a token exchange grant and checks the answer like any other token
 * response (an ID token in it is fully validated). An OP refusal becomes
 * `refusedCode`, keeping the OP's `error`; network failures and an MFA
 * demand keep their own codes.
 */
export async function exchange(
  core: ClientCore,
  grantType: string,
  params: Record<string, string>,
  client: ExchangeClient,
  validation: IdTokenValidationOptions | undefined,
  request: RequestOptions | undefined,
  refusedCode: ErrorCode,
): Promise<TokenExchangeResult> {
  const overrides = {
    ...(client.clientID === undefined ? {} : { clientID: client.clientID }),
    ...(client.clientSecret === undefined ? {} : { clientSecret: client.clientSecret }),
  };
  let result: TokenExchangeResult;
  try {
    const { response, server } = await sendGrant(core, grantType, params, overrides, request);
    result = await finish(core, response, server, client.clientID ?? core.clientID, validation);
    if (typeof response.issued_token_type === 'string') result.issuedTokenType = response.issued_token_type;
  } catch (err) {
    if (err instanceof OidcError && err.code === 'ERR_OP_ERROR') {
      throw new OidcError(refusedCode, err.message, {
        status: err.status,
        ...(err.error === undefined ? {} : { error: err.error }),
        ...(err.errorDescription === undefined ? {} : { errorDescription: err.errorDescription }),
      });
    }
    throw err;
  }
  const act = actClaim(result.idTokenClaims, result.accessToken);
  if (act !== undefined) result.act = act;
  return hideFields(result, 'TokenExchangeResult', ['accessToken', 'idToken', 'refreshToken']);
}
