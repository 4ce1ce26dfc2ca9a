import type { ClientAuthMethod } from '../config/types.js';
import { OidcError } from '../errors.js';
import { SigningKey, type SigningAlg, type SigningKeyInput } from './signing-key.js';

/**
 * A `fetch` of the app's own: every request to the OP (discovery, JWKS,
 * token, userinfo, revocation, PAR) and to protected resources goes through
 * it, e.g. to use an HTTP proxy, a custom agent or a client certificate. It
 * gets the URL and the `RequestInit` the library built (with its `signal`,
 * which carries `httpTimeout` and the caller's abort: pass it on) and must
 * return a WHATWG `Response`.
 *
 * @example
 * ```ts
 * import { ProxyAgent, fetch } from 'undici';
 * const dispatcher = new ProxyAgent(process.env.HTTPS_PROXY);
 * auth({ customFetch: (url, init) => fetch(url, { ...init, dispatcher }) });
 * ```
 */
export type CustomFetch = (url: string, init: RequestInit) => Promise<Response>;

/** How the client reaches the OP and proves who it is: the enterprise options shared by `auth()` and `AuthClient`. */
export interface TransportOptions {
  /**
   * Every request to the OP and to protected resources goes through this `fetch` (default: Node's global `fetch`).
   * @defaultValue global fetch
   */
  customFetch?: CustomFetch;
  /**
   * Mutual TLS (RFC 8705): the client authenticates with the certificate its
   * `customFetch` presents (`tls_client_auth`, or `self_signed_tls_client_auth`
   * when `clientAuthMethod` says so), token, PAR, revocation and userinfo
   * requests go to the OP's `mtls_endpoint_aliases`, and access tokens are bound
   * to the certificate. Needs `customFetch`. Default false.
   * @defaultValue false
   */
  useMtls?: boolean;
  /**
   * The private key for `private_key_jwt` (and, unless `requestObjectSigningKey`
   * is given, for JAR): a `CryptoKey`, a PEM string (PKCS#8) or a private JWK.
   * @defaultValue (none)
   */
  clientAssertionSigningKey?: SigningKeyInput;
  /**
   * The algorithm of `clientAssertionSigningKey`; inferred from the key when absent (RSA: RS256, EC: its curve, Ed25519: EdDSA).
   * @defaultValue from the key
   */
  clientAssertionSigningAlg?: SigningAlg;
  /**
   * JAR (RFC 9101): send the authorization parameters as a request object
   * signed with this algorithm, also inside PAR. Setting it (or
   * `requestObjectSigningKey`) turns JAR on.
   * @defaultValue (none: no JAR)
   */
  requestObjectSigningAlg?: SigningAlg;
  /**
   * The key request objects are signed with (default: `clientAssertionSigningKey`).
   * @defaultValue `clientAssertionSigningKey`
   */
  requestObjectSigningKey?: SigningKeyInput;
  /**
   * The `kid` header of request objects (default: the JWK's `kid`, if the key is one).
   * @defaultValue the JWK's `kid`
   */
  requestObjectSigningKeyId?: string;
}

/** The client authentication methods that use the TLS client certificate (RFC 8705 section 2). */
export const MTLS_AUTH_METHODS = ['tls_client_auth', 'self_signed_tls_client_auth'] as const;

/** How the client authenticates at the token endpoint when `clientAuthMethod` is left out. */
export function defaultClientAuthMethod(options: { useMtls?: unknown; clientSecret?: unknown; clientAssertionSigningKey?: unknown }): ClientAuthMethod {
  if (options.useMtls === true) return 'tls_client_auth';
  if (options.clientSecret) return 'client_secret_basic';
  return options.clientAssertionSigningKey !== undefined ? 'private_key_jwt' : 'none';
}

/** Transport options checked and resolved once, when the client is built. */
export interface ResolvedTransport {
  fetch: CustomFetch | undefined;
  mtls: boolean;
  clientAuthMethod: ClientAuthMethod;
  assertionKey: SigningKey | undefined;
  /** The JAR signing key and its `kid`; undefined without JAR. */
  requestObject: { key: SigningKey; kid: string | undefined } | undefined;
}

function invalid(message: string): OidcError {
  return new OidcError('ERR_CONFIG_INVALID', message, { status: 500 });
}

/**
 * Checks the transport options together, at start-up: a combination that
 * cannot work fails with a message that says what to add or remove.
 */
export function resolveTransport(
  options: TransportOptions & { clientAuthMethod?: ClientAuthMethod; clientSecret?: string | undefined },
): ResolvedTransport {
  if (options.customFetch !== undefined && typeof options.customFetch !== 'function') {
    throw invalid('Invalid option "customFetch": must be a function (url, init) => Promise<Response>.');
  }
  const assertionKey =
    options.clientAssertionSigningKey === undefined ? undefined : SigningKey.from(options.clientAssertionSigningKey, options.clientAssertionSigningAlg, 'clientAssertionSigningKey');
  if (assertionKey === undefined && options.clientAssertionSigningAlg !== undefined) {
    throw invalid('Invalid option "clientAssertionSigningAlg": set it only together with "clientAssertionSigningKey".');
  }
  const mtls = options.useMtls === true;
  const method = options.clientAuthMethod ?? defaultClientAuthMethod(options);
  const usesCertificate = (MTLS_AUTH_METHODS as readonly string[]).includes(method);
  if (mtls) {
    if (options.customFetch === undefined) {
      throw invalid(
        'Invalid option "useMtls": add a "customFetch" that presents the client certificate (e.g. undici\'s fetch with an Agent whose connect options carry cert and key); the global fetch has no client certificates.',
      );
    }
    if (!usesCertificate) {
      throw invalid(`Invalid option "clientAuthMethod": with "useMtls" it must be 'tls_client_auth' or 'self_signed_tls_client_auth' (or left out), not '${method}'.`);
    }
    if (options.clientSecret !== undefined) {
      throw invalid('Invalid option "clientSecret": mTLS replaces the client secret; remove it (check the CLIENT_SECRET env var too).');
    }
  } else if (usesCertificate) {
    throw invalid(`Invalid option "clientAuthMethod": '${method}' needs "useMtls: true" and a "customFetch" that presents the client certificate.`);
  }
  if (method === 'private_key_jwt' && assertionKey === undefined) {
    throw invalid('Invalid option "clientAssertionSigningKey": must be set when clientAuthMethod is \'private_key_jwt\' (a CryptoKey, a PEM string or a private JWK).');
  }

  let requestObject: ResolvedTransport['requestObject'];
  if (options.requestObjectSigningAlg !== undefined || options.requestObjectSigningKey !== undefined) {
    const input = options.requestObjectSigningKey ?? assertionKey;
    if (input === undefined) {
      throw invalid('Invalid option "requestObjectSigningAlg": JAR needs a signing key; set "requestObjectSigningKey" or "clientAssertionSigningKey".');
    }
    const key = SigningKey.from(input, options.requestObjectSigningAlg, options.requestObjectSigningKey === undefined ? 'clientAssertionSigningKey' : 'requestObjectSigningKey');
    requestObject = { key, kid: options.requestObjectSigningKeyId ?? key.kid };
  } else if (options.requestObjectSigningKeyId !== undefined) {
    throw invalid('Invalid option "requestObjectSigningKeyId": set it only together with "requestObjectSigningAlg" or "requestObjectSigningKey".');
  }
  return { fetch: options.customFetch, mtls, clientAuthMethod: method, assertionKey, requestObject };
}
