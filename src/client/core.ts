import * as oidc from 'openid-client';
import { OidcError } from '../errors.js';
import type { ClientAuthMethod } from '../config/types.js';
import { DPoPKey } from '../dpop/key.js';
import { untilAborted } from './abort.js';
import { Discovery, type ServerState } from './discovery.js';
import { checkHeaders, createFetch, isLoopbackHttp } from './http.js';
import { timed } from './timing.js';
import { cleanExtra, type AuthClientOptions, type ClientOverrides, type RequestOptions } from './requests.js';
import type { SigningKey } from './signing-key.js';
import { resolveTransport, type ResolvedTransport } from './transport.js';
import { clientSecretBasic } from './client-secret-basic.js';

/** An openid-client configuration for one call, with the discovered server it was built from. */
export interface CallConfiguration {
  config: oidc.Configuration;
  server: ServerState;
}

/**
 * Internal: what every operation of an `AuthClient` shares: its settings, the
 * discovery cache, client authentication, DPoP and the per-call openid-client
 * configuration. Operations live in modules of their own and take this.
 */
export class ClientCore {
  readonly issuerBaseURL: string;
  readonly clientID: string;
  readonly #clientSecret: string | undefined;
  readonly #method: ClientAuthMethod;
  readonly #timeout: number;
  readonly #clockTolerance: number;
  readonly #alg: string;
  readonly #insecure: boolean;
  /** Extra parameters sent with every token endpoint request. */
  readonly tokenEndpointParams: Record<string, string>;
  /** The DPoP key, when tokens are sender-constrained. */
  readonly dpop: DPoPKey | undefined;
  readonly discovery: Discovery;
  /** customFetch, mTLS, client assertion and JAR keys, checked together at construction. */
  readonly transport: ResolvedTransport;

  constructor(options: AuthClientOptions) {
    const issuer = new URL(options.issuerBaseURL);
    if (issuer.protocol !== 'https:' && !isLoopbackHttp(issuer)) {
      throw new OidcError('ERR_CONFIG_INVALID', 'Invalid option "issuerBaseURL": must be https (http is allowed for localhost only).', { status: 500 });
    }
    this.issuerBaseURL = options.issuerBaseURL.replace(/\/+$/, '');
    this.clientID = options.clientID;
    this.#clientSecret = options.clientSecret;
    this.transport = resolveTransport(options);
    this.#method = this.transport.clientAuthMethod;
    this.#timeout = options.httpTimeout ?? 5_000;
    this.#clockTolerance = options.clockTolerance ?? 60;
    this.#alg = options.idTokenSigningAlg ?? 'RS256';
    this.tokenEndpointParams = cleanExtra(options.tokenEndpointParams);
    this.#insecure = isLoopbackHttp(issuer);
    this.discovery = new Discovery({
      issuerBaseURL: this.issuerBaseURL,
      clientID: this.clientID,
      timeout: this.#timeout,
      cacheMaxAge: options.discoveryCacheMaxAge ?? 600_000,
      jwksCooldown: options.jwksCooldown ?? 30_000,
      insecure: this.#insecure,
      fetch: this.transport.fetch,
    });
    this.dpop = options.dpopKeyPair === undefined ? DPoPKey.fromOption(options.useDPoP) : DPoPKey.fromKeyPair(options.dpopKeyPair, 'dpopKeyPair');
  }

  /** The settings ID tokens (and logout tokens) of `clientID` are checked with. */
  idTokenSettings(clientID: string, server: ServerState) {
    return { issuer: server.metadata.issuer, clientID, alg: this.#alg, clockTolerance: this.#clockTolerance };
  }

  /** openid-client's DPoP option for a call, when DPoP is on. */
  async dpopOptions(config: oidc.Configuration): Promise<oidc.DPoPOptions | undefined> {
    return this.dpop === undefined ? undefined : { DPoP: await this.dpop.handle(config) };
  }

  /** The configured method for the configured client; another client ID posts its secret, if it has one. */
  authMethod(clientID: string, secret: string | undefined): ClientAuthMethod {
    if (clientID === this.clientID) return this.#method;
    // Another client with a secret posts it in the body, as Auth0 registers new applications to.
    return secret ? 'client_secret_post' : 'none';
  }

  /** The secret for a call: the caller's, else the configured one when the client is the configured one. */
  secretFor(client: ClientOverrides): string | undefined {
    return client.clientSecret ?? ((client.clientID ?? this.clientID) === this.clientID ? this.#clientSecret : undefined);
  }

  /** openid-client's client authentication of `clientID` (for the token endpoint, and Auth0's `/mfa/challenge`). */
  async clientAuth(clientID: string, secret: string | undefined): Promise<oidc.ClientAuth> {
    switch (this.authMethod(clientID, secret)) {
      case 'client_secret_basic':
        // Our encoder, not openid-client's: see client-secret-basic.ts.
        return secret === undefined ? oidc.ClientSecretBasic() : clientSecretBasic(secret);
      case 'client_secret_post':
        return oidc.ClientSecretPost(secret);
      case 'client_secret_jwt':
        return oidc.ClientSecretJwt(secret);
      case 'private_key_jwt':
        return oidc.PrivateKeyJwt(await (this.transport.assertionKey as SigningKey).privateKey());
      case 'tls_client_auth':
      case 'self_signed_tls_client_auth':
        // The certificate itself is presented by the app's customFetch; the body carries client_id.
        return oidc.TlsClientAuth();
      default:
        return oidc.None();
    }
  }

  /** The openid-client configuration for one call by `client`, with the caller's headers, signal and the timeout. */
  async configuration(
    client: ClientOverrides,
    request?: RequestOptions,
    onResponse?: (url: string, response: Response) => Promise<void>,
  ): Promise<CallConfiguration> {
    checkHeaders(request?.headers);
    // Discovery is shared by every caller: an abort stops this caller waiting, not the discovery.
    const server = await untilAborted(this.discovery.get(), request?.signal, 'request');
    const clientID = client.clientID ?? this.clientID;
    const secret = this.secretFor(client);
    const config = new oidc.Configuration(
      server.metadata,
      clientID,
      {
        id_token_signed_response_alg: this.#alg,
        [oidc.clockTolerance]: this.#clockTolerance,
        // Token, PAR, revocation and userinfo requests then go to the OP's mtls_endpoint_aliases.
        ...(this.transport.mtls ? { use_mtls_endpoint_aliases: true } : {}),
      },
      await this.clientAuth(clientID, secret),
    );
    config.timeout = this.#timeout / 1000;
    if (this.#insecure) oidc.allowInsecureRequests(config);
    config[oidc.customFetch] = timed(createFetch(this.#timeout, request, onResponse, this.transport.fetch), server.metadata);
    return { config, server };
  }
}
