import type { ClientCore } from '../core.js';
import { defined, type RequestOptions } from '../requests.js';
import { exchange } from './exchange.js';
import { REFRESH_TOKEN_TYPE, checkFields, checkOptional, checkToken, invalid } from './params.js';
import { hideFields } from '../../printing.js';
import type { AccessTokenForConnectionRequest, ConnectionTokenSet } from './requests.js';

/** Auth0 Token Vault's grant: a connected provider's access token for the user's refresh token. */
export const FEDERATED_CONNECTION_GRANT = 'urn:auth0:params:oauth:grant-type:token-exchange:federated-connection-access-token';
/** The token type Auth0 issues for it. */
export const FEDERATED_CONNECTION_TOKEN_TYPE = 'http://auth0.com/oauth/token-type/federated-connection-access-token';

const WHAT = 'getAccessTokenForConnection';
const FIELDS = ['connection', 'refreshToken', 'loginHint', 'clientID', 'clientSecret'] as const;

/** Auth0 Token Vault: exchanges the user's refresh token for the access token of a connection's provider. */
export async function getAccessTokenForConnection(
  core: ClientCore,
  body: AccessTokenForConnectionRequest,
  request?: RequestOptions,
): Promise<ConnectionTokenSet> {
  checkFields(body, FIELDS, WHAT);
  if (typeof body.connection !== 'string' || body.connection.trim() === '') throw invalid(WHAT, '"connection" is required');
  checkToken(body.refreshToken, 'refreshToken', WHAT);
  checkOptional(body.loginHint, 'loginHint', WHAT);
  checkOptional(body.clientID, 'clientID', WHAT);
  const params = defined({
    subject_token: body.refreshToken,
    subject_token_type: REFRESH_TOKEN_TYPE,
    requested_token_type: FEDERATED_CONNECTION_TOKEN_TYPE,
    connection: body.connection,
    login_hint: body.loginHint,
  });
  const tokens = await exchange(core, FEDERATED_CONNECTION_GRANT, params, body, undefined, request, 'ERR_CONNECTION_TOKEN_FAILED');
  return hideFields({ ...tokens, connection: body.connection }, 'ConnectionTokenSet', ['accessToken', 'idToken', 'refreshToken']);
}
