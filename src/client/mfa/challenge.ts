import * as oidc from 'openid-client';
import { debug } from '../../debug.js';
import { OidcError } from '../../errors.js';
import type { ClientCore } from '../core.js';
import { refusalStatus } from '../errors.js';
import { failure } from '../grant.js';
import { cleanExtra, defined, requireString, type RequestOptions } from '../requests.js';
import type { MfaChallengeRequest, MfaChallengeResponse } from './requests.js';

const log = debug('client');

/** Largest `/mfa/challenge` answer read: a few short fields. */
const MAX_ANSWER_BYTES = 16 * 1024;

/**
 * Auth0's `/mfa/challenge`: asks the OP to start a second factor for an
 * `mfa_token`, authenticated as the client is at the token endpoint. OP
 * error answers become `ERR_OP_ERROR` with the OP's `error`, as for grants.
 */
export async function mfaChallenge(core: ClientCore, body: MfaChallengeRequest, request?: RequestOptions): Promise<MfaChallengeResponse> {
  requireString(body.mfaToken, 'mfaChallenge: "mfaToken"');
  const { config, server } = await core.configuration(body, request);
  const clientID = body.clientID ?? core.clientID;
  const params = new URLSearchParams({
    ...cleanExtra(body.extra),
    ...defined({ mfa_token: body.mfaToken, challenge_type: body.challengeType, authenticator_id: body.authenticatorId }),
  });
  const headers = new Headers({ 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' });
  let answer: unknown;
  let status: number;
  try {
    // The client authenticates as at the token endpoint (openid-client's own ClientAuth).
    await (await core.clientAuth(clientID, core.secretFor(body)))(server.metadata, { client_id: clientID }, params, headers);
    const url = new URL('mfa/challenge', `${core.issuerBaseURL}/`).href;
    const sent: Record<string, string> = {};
    headers.forEach((value, name) => {
      sent[name] = value;
    });
    // The configuration's fetch (configuration() always sets one) carries the caller's headers and signal, and the timeout.
    const send = config[oidc.customFetch]!;
    const response = await send(url, { method: 'POST', headers: sent, body: params, redirect: 'manual' } as never);
    status = response.status;
    const text = await response.text();
    answer = text.length > 0 && text.length <= MAX_ANSWER_BYTES ? JSON.parse(text) : undefined;
  } catch (err) {
    throw failure(err, 'mfa challenge', request?.signal);
  }
  const fields = (typeof answer === 'object' && answer !== null ? answer : {}) as Record<string, unknown>;
  if (status < 200 || status >= 300) {
    const error = OidcError.errorCode(fields.error);
    const description = OidcError.describe(fields.error_description);
    throw new OidcError('ERR_OP_ERROR', `mfa challenge: the OP answered ${error === undefined ? `with status ${status}` : `"${error}"`}`, {
      status: refusalStatus(status),
      ...(error === undefined ? {} : { error }),
      ...(description === undefined ? {} : { errorDescription: description }),
    });
  }
  if (typeof fields.challenge_type !== 'string') {
    throw new OidcError('ERR_INVALID_RESPONSE', 'mfa challenge: the answer has no challenge_type', { status: 502 });
  }
  log('mfa challenge started (%s)', fields.challenge_type === 'oob' ? 'oob' : 'otp');
  const result: MfaChallengeResponse = { challengeType: fields.challenge_type };
  if (typeof fields.oob_code === 'string') result.oobCode = fields.oob_code;
  if (typeof fields.binding_method === 'string') result.bindingMethod = fields.binding_method;
  return result;
}
