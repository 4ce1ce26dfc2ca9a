import type { Configuration } from 'oidc-provider';
import type { JWK } from 'jose';
import type Provider from 'oidc-provider';
import type { ClientMetadata } from 'oidc-provider';

import type { Browser, BrowserResponse } from '../browser.js';
import type { MemoryStore } from '../memory-adapter.js';
import type { TestUser } from '../users.js';

export interface TestOPOptions {
  /** default: a free port picked when the OP first listens */
  port?: number;
  /** the app the default clients redirect to; default 'http://127.0.0.1:3000' */
  appBaseURL?: string;
  /** default true; with false call start() yourself */
  autoStart?: boolean;
  /** seconds, default 3600 (also used for client credentials and audience tokens) */
  accessTokenTTL?: number;
  /** seconds, default 3600 */
  idTokenTTL?: number;
  /** seconds, default 86400 */
  refreshTokenTTL?: number;
  /** default true: every refresh returns a new refresh token; re-using a rotated one revokes the grant */
  rotateRefreshTokens?: boolean;
  /**
   * seconds, default 0 (none): Auth0's reuse interval. A rotated refresh token presented again
   * within it is accepted (the grant goes on from the newest token of its family); later, a reuse
   * revokes the grant
   */
  refreshTokenReuseInterval?: number;
  /**
   * Auth0's Multi-Resource Refresh Token policy: APIs (audiences / resource indicators) for which
   * a refresh token may be redeemed, whatever API the login asked for
   */
  multiResourceRefreshToken?: string[];
  /**
   * default false: a refresh that did not rotate the refresh token answers without `refresh_token`
   * (like Auth0 with rotation off; oidc-provider would repeat the old one)
   */
  omitUnrotatedRefreshToken?: boolean;
  /** replaces the default clients */
  clients?: ClientMetadata[];
  /** added to the default clients */
  extraClients?: ClientMetadata[];
  /** enables DPoP (off by default here); requireNonce makes the OP demand server-provided nonces */
  dpop?: boolean | { requireNonce: boolean };
  /** makes PAR mandatory */
  requirePushedAuthorizationRequests?: boolean;
  /** false turns PAR off: discovery then advertises no pushed_authorization_request_endpoint */
  pushedAuthorizationRequests?: boolean;
  /** default: oidc-provider's policy (PKCE required for public clients only) */
  pkceRequired?: boolean;
  /** space separated scopes of every resource server; default DEFAULT_RESOURCE_SCOPE */
  resourceScope?: string;
  /**
   * Serve https with this server certificate. With `mtls`, a second https port asks for client
   * certificates (checked against `ca`) and discovery advertises it as `mtls_endpoint_aliases`;
   * oidc-provider's mTLS client authentication and certificate-bound tokens are on.
   */
  tls?: { cert: string; key: string; ca: string; mtls?: boolean };
  /** changes oidc-provider's configuration before the Provider is built (JAR, extra features) */
  configure?: (configuration: Configuration) => void;
  /** seconds Token Vault (federated connection) access tokens live; default 3600 */
  connectionTokenTTL?: number;
  /** the issued_token_type of session transfer tokens; default Auth0's (set another to test the check) */
  sessionTransferIssuedTokenType?: string;
  /** Koa middleware run before oidc-provider's own routes, in order (to delay or rewrite a response) */
  middleware?: Array<Parameters<Provider['use']>[0]>;
  /**
   * How a browser login answers `acr_values` (see step-up.ts): 'honour' (default) logs the user in
   * again and gives the first asked value the OP supports (`amr` with `mfa` for the PAPE
   * multi-factor policy); 'ignore' never does (acr stays LOA_PASSWORD); 'auth0' answers the PAPE
   * policy as Auth0 does, with `amr: ['pwd', 'mfa']` and no `acr` claim.
   */
  stepUp?: 'honour' | 'ignore' | 'auth0';
  /** epoch seconds put in every ID token as `session_expiry` (IPSIE SL1), read at each issue */
  sessionExpiry?: () => number | undefined;
}

export interface TestOPCounts {
  /** token endpoint requests by grant_type ('unknown' when it could not be read) */
  token: Record<string, number>;
  jwks: number;
  discovery: number;
  par: number;
  revocation: number;
  userinfo: number;
  introspection: number;
  authorization: number;
  endSession: number;
  /** refresh tokens presented again inside `refreshTokenReuseInterval` (and so accepted) */
  reusedInInterval: number;
}

export interface TokenRequestRecord {
  grantType: string;
  headers: Record<string, string | string[] | undefined>;
  params: Record<string, unknown>;
  /** the OP's port the request arrived on */
  port: number;
  /** the subject of the TLS client certificate, when one was presented */
  clientCertificate?: string;
}

export type IdTokenTamperer = (
  claims: Record<string, unknown>,
  header: Record<string, unknown>,
) => { claims?: Record<string, unknown>; header?: Record<string, unknown>; signWith?: 'op' | 'foreign' | 'none' };

export interface BackchannelLogoutRecord {
  clientId: string;
  accountId: string;
  sid: string;
  ok: boolean;
  error?: string;
}

export interface TestOP {
  /** 'http://127.0.0.1:<port>' (no trailing slash; https with options.tls) */
  readonly issuer: string;
  readonly port: number;
  /** 'https://127.0.0.1:<port>' of the client-certificate port (options.tls.mtls), else undefined */
  readonly mtlsOrigin: string | undefined;
  readonly appBaseURL: string;
  /** the current Provider (rotateKeys() replaces it) */
  readonly provider: Provider;
  /** sessions, grants, tokens... shared by every Provider built for this OP */
  readonly store: MemoryStore;
  /** listens (createTestOP already did unless autoStart: false); same port, keys and state as before */
  start(): Promise<void>;
  /** closes the server and destroys open (keep-alive) connections: the OP is unreachable at once */
  stop(): Promise<void>;
  readonly counts: TestOPCounts;
  /** every token endpoint request (successful or not), body parameters as sent */
  readonly tokenRequests: TokenRequestRecord[];
  /** back-channel logout deliveries (successful or not), in order */
  readonly backchannelLogouts: BackchannelLogoutRecord[];
  /** errors behind 500 responses; they are also printed */
  readonly serverErrors: Error[];
  /**
   * Auth0's MFA API as the OP keeps it: every mfa_token issued, the codes "sent" for out-of-band
   * challenges (by oob_code), and the /mfa/challenge requests received.
   */
  readonly mfa: {
    readonly issued: readonly string[];
    readonly oob: ReadonlyMap<string, { mfaToken: string; bindingCode: string }>;
    readonly challenges: ReadonlyArray<{ params: Record<string, string>; headers: Record<string, string | string[] | undefined> }>;
    /** makes every mfa_token issued so far expired */
    expireAll(): void;
  };
  /** zeroes counts and empties tokenRequests and backchannelLogouts */
  resetCounts(): void;
  /**
   * While set, every id_token in a token endpoint response goes through fn and is re-signed: with
   * the OP key matching header.kid / header.alg ('op', default), with a key pair the OP does not
   * publish ('foreign'; the kid is kept, so it looks like the OP's), or not at all ('none': the
   * signature is replaced by random bytes). fn may return new claims/header or mutate its arguments.
   */
  tamperIdToken(fn: IdTokenTamperer | null): void;
  /**
   * New RS256 + ES256 signing keys with new kids, published at /jwks and used for everything signed
   * from now on. The previous keys are dropped unless keepPrevious (then still published, not used).
   */
  rotateKeys(opts?: { keepPrevious?: boolean }): Promise<void>;
  /** the OP's signing keys, current signing key first (RS256) */
  signingKeys(): { privateJwks: JWK[]; publicJwks: JWK[] };
  /**
   * Drives a browser login: GET startUrl (an app URL), log in at the OP (default alice), confirm
   * consent (or refuse it with consent: false), auto-submit form_post pages, follow redirects back
   * into the app. Returns the final response; its `redirects` lists the redirects of ALL steps.
   * If the OP rejects the credentials, the re-rendered login page is returned.
   */
  signIn(
    browser: Browser,
    startUrl: string,
    user?: TestUser | { username: string; password: string },
    opts?: { consent?: boolean },
  ): Promise<BrowserResponse>;
  /**
   * RP-independent logout at the OP (GET /session/end + confirm): ends the OP session of `browser`
   * and, before resolving, delivers back-channel logout tokens to the clients of that session.
   */
  endSession(browser: Browser): Promise<BrowserResponse>;
}
