import type { ClientCore } from '../core.js';
import type { IdTokenValidationOptions } from '../id-token.js';
import { defined, type RequestOptions } from '../requests.js';
import { exchange } from './exchange.js';
import { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT, checkFields, checkOptional, checkToken, extraParams, invalid } from './params.js';
import type { CustomTokenExchangeRequest, TokenExchangeResult } from './requests.js';

const WHAT = 'customTokenExchange';

const FIELDS = [
  'subjectToken',
  'subjectTokenType',
  'actorToken',
  'actorTokenType',
  'requestedTokenType',
  'audience',
  'scope',
  'organization',
  'extra',
  'clientID',
  'clientSecret',
] as const;

/** The body parameters the named fields set: `extra` may not set them. */
const FIELD_PARAMS = ['subject_token', 'subject_token_type', 'actor_token', 'actor_token_type', 'requested_token_type', 'audience', 'aud', 'scope', 'organization'];

/** RFC 8693 token exchange (Auth0 Custom Token Exchange). */
export async function customTokenExchange(
  core: ClientCore,
  body: CustomTokenExchangeRequest,
  validation?: IdTokenValidationOptions,
  request?: RequestOptions,
): Promise<TokenExchangeResult> {
  return exchange(core, TOKEN_EXCHANGE_GRANT, customTokenExchangeParams(body), body, validation, request, 'ERR_TOKEN_EXCHANGE_FAILED');
}

/** The checked body parameters of a custom token exchange; refuses an incomplete request before it is sent. */
export function customTokenExchangeParams(body: CustomTokenExchangeRequest, what = WHAT): Record<string, string> {
  checkFields(body, FIELDS, what);
  checkToken(body.subjectToken, 'subjectToken', what);
  for (const field of ['subjectTokenType', 'actorTokenType', 'requestedTokenType', 'audience', 'scope', 'organization', 'clientID'] as const) {
    checkOptional(body[field], field, what);
  }
  if (body.actorToken !== undefined) {
    checkToken(body.actorToken, 'actorToken', what);
    // Without its type the OP cannot tell what the actor token is: RFC 8693 section 2.1 requires it.
    if (body.actorTokenType === undefined) throw invalid(what, '"actorTokenType" is required with "actorToken"');
  } else if (body.actorTokenType !== undefined) {
    throw invalid(what, '"actorTokenType" was given without "actorToken"');
  }
  return {
    ...extraParams(body.extra, FIELD_PARAMS, what),
    ...defined({
      subject_token: body.subjectToken,
      subject_token_type: body.subjectTokenType ?? ACCESS_TOKEN_TYPE,
      actor_token: body.actorToken,
      actor_token_type: body.actorTokenType,
      requested_token_type: body.requestedTokenType,
      audience: body.audience,
      scope: body.scope,
      organization: body.organization,
    }),
  };
}
