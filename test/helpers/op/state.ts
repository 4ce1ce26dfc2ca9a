import { randomBytes } from 'node:crypto';
import type * as http from 'node:http';

import type { JWK } from 'jose';
import type Provider from 'oidc-provider';
import type { ClientMetadata } from 'oidc-provider';

import { MemoryStore } from '../memory-adapter.js';
import { defaultClients } from './clients.js';
import { zeroCounts } from './counts.js';
import { generateSigningKeys } from './keys.js';
import { createMfaState, type MfaState } from './mfa.js';
import type { BackchannelLogoutRecord, IdTokenTamperer, TestOPCounts, TestOPOptions, TokenRequestRecord } from './types.js';

/** scopes every resource server (audience) accepts unless options.resourceScope says otherwise */
export const DEFAULT_RESOURCE_SCOPE = 'read:data write:data';

/**
 * Everything one test OP keeps: its settings and the state that survives stop()/start() and
 * rotateKeys(). Every endpoint family module reads and updates it.
 */
export interface OPState {
  readonly options: TestOPOptions;
  readonly appBaseURL: string;
  readonly accessTokenTTL: number;
  readonly idTokenTTL: number;
  readonly refreshTokenTTL: number;
  readonly resourceScope: string;
  readonly clients: ClientMetadata[];
  readonly store: MemoryStore;
  /** the signing keys, current first; rotateKeys() replaces them */
  privateJwks: JWK[];
  /** keys the OP does not publish, for tamperIdToken(... signWith: 'foreign') */
  foreignKeys: JWK[] | undefined;
  readonly cookieKeys: string[];
  readonly dpopNonceSecret: Buffer;
  readonly counts: TestOPCounts;
  readonly tokenRequests: TokenRequestRecord[];
  readonly backchannelLogouts: BackchannelLogoutRecord[];
  readonly serverErrors: Error[];
  tamperer: IdTokenTamperer | null;
  /**
   * `organization` of an authorization request, by authorization code jti, then by grant id once
   * the code is exchanged (so refreshes keep it)
   */
  readonly orgByCode: Map<string, string>;
  readonly orgByGrant: Map<string, string>;
  /**
   * raw urlencoded parameters of the request being handled (before oidc-provider strips the ones
   * it does not know for a grant, like `organization` on client_credentials)
   */
  readonly rawParams: WeakMap<http.IncomingMessage, URLSearchParams>;
  /** mfa_tokens, challenges and recovery codes of the MFA API (mfa.ts) */
  readonly mfa: MfaState;
  port: number;
  issuer: string;
  /** 'https://127.0.0.1:<port>' of the client-certificate port, with options.tls.mtls */
  mtlsOrigin: string | undefined;
  provider: Provider | undefined;
  providerCallback: ((req: http.IncomingMessage, res: http.ServerResponse) => unknown) | undefined;
}

export async function createState(options: TestOPOptions): Promise<OPState> {
  const appBaseURL = (options.appBaseURL ?? 'http://127.0.0.1:3000').replace(/\/$/, '');
  return {
    options,
    appBaseURL,
    accessTokenTTL: options.accessTokenTTL ?? 3600,
    idTokenTTL: options.idTokenTTL ?? 3600,
    refreshTokenTTL: options.refreshTokenTTL ?? 86400,
    resourceScope: options.resourceScope ?? DEFAULT_RESOURCE_SCOPE,
    clients: [...(options.clients ?? defaultClients(appBaseURL)), ...(options.extraClients ?? [])],
    store: new MemoryStore(),
    privateJwks: await generateSigningKeys(),
    foreignKeys: undefined,
    cookieKeys: [randomBytes(32).toString('base64url')],
    dpopNonceSecret: randomBytes(32),
    counts: zeroCounts(),
    tokenRequests: [],
    backchannelLogouts: [],
    serverErrors: [],
    tamperer: null,
    orgByCode: new Map(),
    orgByGrant: new Map(),
    rawParams: new WeakMap(),
    mfa: createMfaState(),
    port: options.port ?? 0,
    issuer: '',
    mtlsOrigin: undefined,
    provider: undefined,
    providerCallback: undefined,
  };
}

export function currentProvider(state: OPState): Provider {
  if (!state.provider) throw new Error('test OP: provider not built yet');
  return state.provider;
}
