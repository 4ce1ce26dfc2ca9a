import * as oidc from 'openid-client';
import { OidcError } from '../errors.js';
import { debug } from '../debug.js';
import type { ClientCore } from './core.js';
import { failure } from './grant.js';
import { cleanExtra, requireString, type RequestOptions, type RevokeRefreshTokenRequest } from './requests.js';

const log = debug('client');

/** Revokes a refresh token (RFC 7009). */
export async function revokeRefreshToken(core: ClientCore, body: RevokeRefreshTokenRequest, request?: RequestOptions): Promise<void> {
  requireString(body.refreshToken, 'revokeRefreshToken: "refreshToken"');
  const { config, server } = await core.configuration(body, request);
  if (!server.metadata.revocation_endpoint) {
    throw new OidcError('ERR_OP_ERROR', 'revocation: the OP advertises no revocation_endpoint', { status: 500 });
  }
  try {
    await oidc.tokenRevocation(config, body.refreshToken, { ...cleanExtra(body.extra), token_type_hint: 'refresh_token' });
    log('refresh token revoked');
  } catch (err) {
    throw failure(err, 'revocation', request?.signal);
  }
}
