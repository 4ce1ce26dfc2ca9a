import type * as http from 'node:http';

import type { OPState } from './state.js';
import type { TestOPCounts } from './types.js';
import { paramsToRecord } from './util.js';

export function zeroCounts(): TestOPCounts {
  return {
    token: {},
    jwks: 0,
    discovery: 0,
    par: 0,
    revocation: 0,
    userinfo: 0,
    introspection: 0,
    authorization: 0,
    endSession: 0,
  };
}

// oidc-provider's default routes (see Configuration.routes) -> counter
const COUNTED_PATHS: Record<string, Exclude<keyof TestOPCounts, 'token'>> = {
  '/.well-known/openid-configuration': 'discovery',
  '/jwks': 'jwks',
  '/request': 'par',
  '/token/revocation': 'revocation',
  '/me': 'userinfo',
  '/token/introspection': 'introspection',
  '/auth': 'authorization',
  '/session/end': 'endSession',
};

/** Counts a request to one of oidc-provider's endpoints. */
export function countRequest(state: OPState, path: string): void {
  const counter = COUNTED_PATHS[path];
  if (counter) state.counts[counter] += 1;
}

/** Counts and records a token endpoint request, body parameters as sent. */
export function recordTokenRequest(state: OPState, req: http.IncomingMessage, params: URLSearchParams | undefined): void {
  const grantType = params?.get('grant_type') ?? 'unknown';
  state.counts.token[grantType] = (state.counts.token[grantType] ?? 0) + 1;
  state.tokenRequests.push({ grantType, headers: { ...req.headers }, params: params ? paramsToRecord(params) : {} });
}

/** Zeroes counts and empties the records. */
export function resetCounts(state: OPState): void {
  Object.assign(state.counts, zeroCounts());
  state.tokenRequests.length = 0;
  state.backchannelLogouts.length = 0;
}
