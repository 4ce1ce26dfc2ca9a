/**
 * A real oidc-provider (v9) OpenID Provider, in-process on 127.0.0.1, configured to behave like
 * Auth0 where the library cares (audience, organization, password grants), for end-to-end tests.
 *
 * Request flow:  node http server -> handle() (counts, records token requests, audience->resource,
 * login/consent pages under /interaction/:uid) -> provider.callback() (koa) -> our koa middleware
 * (org bookkeeping, id_token tampering) -> oidc-provider's routes.
 */
import './quiet.js'; // must stay first: silences oidc-provider's console notices

import { randomBytes, randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

import {
  SignJWT,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWTHeaderParameters,
  type JWTPayload,
} from 'jose';
import Provider from 'oidc-provider';
import type {
  Account,
  ClientMetadata,
  Configuration,
  JWKS,
  KoaContextWithOIDC,
  ResourceServer,
  TokenEndpointGrantContext,
} from 'oidc-provider';

import { parseFirstForm, type Browser, type BrowserResponse } from './browser.js';
import { memoryAdapter, MemoryStore } from './memory-adapter.js';
import { consentPage, errorPage, loginPage, logoutPage, logoutSuccessPage } from './op-views.js';
import { DEFAULT_REALM, USERS, checkCredentials, findUserBySub, userClaims, type TestUser } from './users.js';

export { DEFAULT_REALM, USERS, type TestUser };
export type { Provider };

export const TEST_CLIENT_ID = 'test-client';
export const TEST_CLIENT_SECRET = 'test-client-secret-that-is-long-enough-000';
export const POST_CLIENT_SECRET = 'post-client-secret-that-is-long-enough-000';
export const M2M_CLIENT_SECRET = 'm2m-client-secret-that-is-long-enough-0000';
export const PASSWORD_REALM_GRANT = 'http://auth0.com/oauth/grant-type/password-realm';
/** scopes every resource server (audience) accepts unless options.resourceScope says otherwise */
export const DEFAULT_RESOURCE_SCOPE = 'read:data write:data';

const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

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
  /** Koa middleware run before oidc-provider's own routes, in order (to delay or rewrite a response) */
  middleware?: Array<Parameters<Provider['use']>[0]>;
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
}

export interface TokenRequestRecord {
  grantType: string;
  headers: Record<string, string | string[] | undefined>;
  params: Record<string, unknown>;
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
  /** 'http://127.0.0.1:<port>' (no trailing slash) */
  readonly issuer: string;
  readonly port: number;
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

/** The clients registered when options.clients is not given. */
export function defaultClients(appBaseURL: string): ClientMetadata[] {
  const common = {
    redirect_uris: [`${appBaseURL}/callback`],
    post_logout_redirect_uris: [appBaseURL, `${appBaseURL}/`],
    backchannel_logout_uri: `${appBaseURL}/backchannel-logout`,
    backchannel_logout_session_required: true,
  };
  return [
    {
      ...common,
      client_id: TEST_CLIENT_ID,
      client_secret: TEST_CLIENT_SECRET,
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials', 'password', PASSWORD_REALM_GRANT],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      ...common,
      client_id: 'public-client',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    },
    {
      ...common,
      client_id: 'post-client',
      client_secret: POST_CLIENT_SECRET,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
    },
    {
      ...common,
      client_id: 'm2m-client',
      client_secret: M2M_CLIENT_SECRET,
      grant_types: ['client_credentials'],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ];
}

/** A fresh RS256 + ES256 signing key pair set, as private JWKs with new kids. */
async function generateSigningKeys(): Promise<JWK[]> {
  const suffix = randomUUID().slice(0, 8);
  const rsa = await generateKeyPair('RS256', { extractable: true });
  const ec = await generateKeyPair('ES256', { extractable: true });
  return [
    // RS256 first: it is what clients get by default (id_token_signed_response_alg RS256)
    { ...(await exportJWK(rsa.privateKey)), kid: `rs256-${suffix}`, alg: 'RS256', use: 'sig' },
    { ...(await exportJWK(ec.privateKey)), kid: `es256-${suffix}`, alg: 'ES256', use: 'sig' },
  ];
}

const PRIVATE_JWK_MEMBERS = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi']);

function publicJwk(jwk: JWK): JWK {
  return Object.fromEntries(Object.entries(jwk).filter(([member]) => !PRIVATE_JWK_MEMBERS.has(member)));
}

function readBody(req: http.IncomingMessage, limit = 1024 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function paramsToRecord(params: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(params.keys())) {
    const values = params.getAll(key);
    out[key] = values.length === 1 ? (values[0] as string) : values;
  }
  return out;
}

function sendHtml(res: http.ServerResponse, status: number, html: string): void {
  res.statusCode = status;
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.end(html);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Auth0 puts an organization id (org_...) in org_id and an organization name in org_name. */
function orgClaims(organization: string | undefined): Record<string, string> {
  if (!organization) return {};
  return organization.startsWith('org_') ? { org_id: organization } : { org_name: organization };
}

function zeroCounts(): TestOPCounts {
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

// POST endpoints whose urlencoded bodies we read ourselves (to record them and map audience->resource)
const BODY_PATHS = new Set(['/token', '/request', '/auth']);

export async function createTestOP(options: TestOPOptions = {}): Promise<TestOP> {
  const appBaseURL = (options.appBaseURL ?? 'http://127.0.0.1:3000').replace(/\/$/, '');
  const accessTokenTTL = options.accessTokenTTL ?? 3600;
  const idTokenTTL = options.idTokenTTL ?? 3600;
  const refreshTokenTTL = options.refreshTokenTTL ?? 86400;
  const resourceScope = options.resourceScope ?? DEFAULT_RESOURCE_SCOPE;
  const clients = [...(options.clients ?? defaultClients(appBaseURL)), ...(options.extraClients ?? [])];

  // --- state that survives stop()/start() and rotateKeys() -------------------------------------
  const store = new MemoryStore();
  let privateJwks = await generateSigningKeys();
  const cookieKeys = [randomBytes(32).toString('base64url')];
  const dpopNonceSecret = randomBytes(32);
  const counts = zeroCounts();
  const tokenRequests: TokenRequestRecord[] = [];
  const backchannelLogouts: BackchannelLogoutRecord[] = [];
  const serverErrors: Error[] = [];
  let tamperer: IdTokenTamperer | null = null;
  // keys the OP does not publish, for tamperIdToken(... signWith: 'foreign')
  let foreignKeys: JWK[] | undefined;
  // `organization` of an authorization request, by authorization code jti, then by grant id once
  // the code is exchanged (so refreshes keep it)
  const orgByCode = new Map<string, string>();
  const orgByGrant = new Map<string, string>();
  // raw urlencoded parameters of the request being handled (before oidc-provider strips the ones
  // it does not know for a grant, like `organization` on client_credentials)
  const rawParams = new WeakMap<http.IncomingMessage, URLSearchParams>();

  let port = options.port ?? 0;
  let issuer = '';
  let server: http.Server | undefined;
  let provider: Provider | undefined;
  let providerCallback: ((req: http.IncomingMessage, res: http.ServerResponse) => unknown) | undefined;

  function currentProvider(): Provider {
    if (!provider) throw new Error('test OP: provider not built yet');
    return provider;
  }

  function resourceServerInfo(identifier: string): ResourceServer {
    return {
      scope: resourceScope,
      audience: identifier,
      accessTokenFormat: 'jwt',
      accessTokenTTL,
      jwt: { sign: { alg: 'RS256' } },
    };
  }

  /** The `organization` that applies to the token request being handled, if any. */
  function organizationFor(ctx: KoaContextWithOIDC): string | undefined {
    const { entities } = ctx.oidc;
    if (entities.AuthorizationCode) return orgByCode.get(entities.AuthorizationCode.jti);
    if (entities.RefreshToken?.grantId) return orgByGrant.get(entities.RefreshToken.grantId);
    return undefined;
  }

  async function findAccount(ctx: KoaContextWithOIDC, sub: string): Promise<Account | undefined> {
    const user = findUserBySub(sub);
    if (!user) return undefined;
    return {
      accountId: user.sub,
      // oidc-provider filters these by the granted scopes (see `claims` in the configuration)
      async claims(use: string) {
        const claims = userClaims(user);
        return use === 'id_token' ? { ...claims, ...orgClaims(organizationFor(ctx)) } : claims;
      },
    };
  }

  // --- Auth0 password grants --------------------------------------------------------------------
  async function passwordGrant(ctx: TokenEndpointGrantContext): Promise<void> {
    const { params, client, provider: op } = ctx.oidc;
    const realmGrant = params.grant_type === PASSWORD_REALM_GRANT;

    if (typeof params.username !== 'string' || typeof params.password !== 'string') {
      ctx.status = 400;
      ctx.body = { error: 'invalid_request', error_description: 'Missing required parameter: username and password' };
      return;
    }
    if (realmGrant && typeof params.realm !== 'string') {
      ctx.status = 400;
      ctx.body = { error: 'invalid_request', error_description: 'Missing required parameter: realm' };
      return;
    }
    const user = checkCredentials(params.username, params.password, realmGrant ? params.realm : undefined);
    if (!user) {
      ctx.status = 403;
      ctx.body = { error: 'invalid_grant', error_description: 'Wrong email or password.' };
      return;
    }
    if (user.mfa) {
      ctx.status = 403;
      ctx.body = {
        error: 'mfa_required',
        error_description: 'Multifactor authentication required',
        mfa_token: randomBytes(24).toString('base64url'),
      };
      return;
    }

    const requested = typeof params.scope === 'string' ? params.scope.split(' ').filter(Boolean) : [];
    const oidcScopes = requested.filter((scope) => OIDC_SCOPES.has(scope));
    // handle() already copied `audience` into `resource`
    const resource = typeof params.resource === 'string' ? params.resource : undefined;
    if (resource !== undefined && !URL.canParse(resource)) {
      ctx.status = 400;
      ctx.body = { error: 'invalid_target', error_description: 'resource indicator must be an absolute URI' };
      return;
    }

    // a Grant, so that the refresh_token grant (which validates it) works for these tokens too
    const grant = new op.Grant({ accountId: user.sub, clientId: client.clientId });
    if (oidcScopes.length) grant.addOIDCScope(oidcScopes.join(' '));
    const resourceServer = resource ? new op.ResourceServer(resource, resourceServerInfo(resource)) : undefined;
    const resourceScopes = resourceServer ? requested.filter((scope) => resourceServer.scopes.has(scope)) : [];
    if (resource && resourceScopes.length) grant.addResourceScope(resource, resourceScopes.join(' '));
    const grantId = await grant.save();

    const account = await findAccount(ctx, user.sub);
    ctx.oidc.entity('Account', account);

    const at = new op.AccessToken({ accountId: user.sub, client, grantId, gty: 'password', expiresWithSession: false });
    if (resourceServer) {
      at.resourceServer = resourceServer; // makes it a JWT with aud = resource
      at.scope = resourceScopes.join(' ') || undefined;
    } else {
      at.scope = oidcScopes.join(' ') || undefined;
    }
    ctx.oidc.entity('AccessToken', at);
    const accessToken = await at.save();

    const body: Record<string, unknown> = {
      access_token: accessToken,
      token_type: at.tokenType,
      expires_in: at.expiration,
      scope: [...oidcScopes, ...resourceScopes].join(' ') || undefined,
    };

    if (oidcScopes.includes('offline_access') && client.grantTypeAllowed('refresh_token')) {
      const rt = new op.RefreshToken({
        accountId: user.sub,
        client,
        grantId,
        gty: 'password',
        scope: [...oidcScopes, ...resourceScopes].join(' '),
        resource,
        rotations: 0,
        expiresWithSession: false,
      });
      ctx.oidc.entity('RefreshToken', rt);
      body.refresh_token = await rt.save();
    }

    if (oidcScopes.includes('openid')) {
      const idToken = new op.IdToken(userClaims(user), { ctx });
      // the Claims mask: only claims of these scopes end up in the token
      (idToken as unknown as { scope: string }).scope = oidcScopes.join(' ');
      body.id_token = await idToken.issue({ use: 'idtoken' });
    }

    ctx.body = body;
  }

  // --- id_token tampering -------------------------------------------------------------------------
  async function foreignKeyFor(alg: string): Promise<JWK> {
    foreignKeys ??= await generateSigningKeys();
    return foreignKeys.find((jwk) => jwk.alg === alg) ?? (foreignKeys[0] as JWK);
  }

  async function tamper(idToken: string, fn: IdTokenTamperer): Promise<string> {
    const header = { ...decodeProtectedHeader(idToken) } as Record<string, unknown>;
    const claims = { ...decodeJwt(idToken) } as Record<string, unknown>;
    const result = fn(claims, header) ?? {};
    const newHeader = result.header ?? header;
    const newClaims = result.claims ?? claims;
    const signWith = result.signWith ?? 'op';

    if (signWith === 'none') {
      const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      return `${encode(newHeader)}.${encode(newClaims)}.${randomBytes(64).toString('base64url')}`;
    }

    const alg = typeof newHeader.alg === 'string' ? newHeader.alg : 'RS256';
    const jwk =
      signWith === 'foreign'
        ? await foreignKeyFor(alg)
        : (privateJwks.find((k) => k.kid === newHeader.kid) ?? privateJwks.find((k) => k.alg === alg) ?? (privateJwks[0] as JWK));
    const key = await importJWK(jwk, jwk.alg);
    return new SignJWT(newClaims as JWTPayload)
      .setProtectedHeader({ ...newHeader, alg: jwk.alg } as JWTHeaderParameters)
      .sign(key);
  }

  // --- provider ---------------------------------------------------------------------------------
  function configuration(): Configuration {
    const { dpop } = options;
    const requireDpopNonce = typeof dpop === 'object' && dpop.requireNonce;
    return {
      adapter: memoryAdapter(store),
      clients,
      jwks: { keys: privateJwks } as JWKS,
      findAccount,
      cookies: {
        keys: cookieKeys,
        // the browser shares cookies between the app and the OP (same host, other port): distinct
        // names keep the OP's cookies from clashing with an app's
        names: { session: 'op_session', interaction: 'op_interaction', resume: 'op_interaction_resume' },
      },
      claims: {
        openid: ['sub', 'org_id', 'org_name'],
        profile: ['name', 'nickname', 'preferred_username'],
        email: ['email', 'email_verified'],
        acr: null,
        auth_time: null,
        iss: null,
        sid: null,
      },
      scopes: [...OIDC_SCOPES],
      extraParams: ['audience', 'organization', 'invitation', 'connection'],
      // like Auth0: profile/email claims go into the ID token even when an access token for the
      // userinfo endpoint is issued (oidc-provider's default keeps them for userinfo only)
      conformIdTokenClaims: false,
      // refresh tokens whenever the client may use them, not only with offline_access + consent
      issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
      rotateRefreshToken: options.rotateRefreshTokens ?? true,
      ...(options.pkceRequired === undefined ? {} : { pkce: { required: () => options.pkceRequired === true } }),
      ttl: {
        AccessToken: accessTokenTTL,
        ClientCredentials: accessTokenTTL,
        IdToken: idTokenTTL,
        RefreshToken: refreshTokenTTL,
        AuthorizationCode: 60,
        Interaction: 3600,
        Session: 86400,
        Grant: Math.max(14 * 86400, refreshTokenTTL),
      },
      interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
      extraTokenClaims: (ctx, token) => {
        const organization =
          token.kind === 'ClientCredentials'
            ? (rawParams.get(ctx.req)?.get('organization') ?? undefined)
            : organizationFor(ctx);
        return orgClaims(organization);
      },
      renderError: (ctx, out) => {
        ctx.type = 'html';
        ctx.body = errorPage(out as unknown as Record<string, unknown>);
      },
      // oidc-provider's fetch refuses special-use addresses (127.0.0.1 among them) to prevent SSRF;
      // our back-channel logout receivers live there, so drop its guarding dispatcher
      fetch: (url, init) => {
        const unguarded: RequestInit & { dispatcher?: unknown } = { ...init };
        delete unguarded.dispatcher;
        return fetch(url, unguarded);
      },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        introspection: { enabled: true },
        revocation: { enabled: true },
        userinfo: { enabled: true },
        backchannelLogout: { enabled: true },
        rpInitiatedLogout: {
          enabled: true,
          logoutSource: (ctx, form) => {
            ctx.type = 'html';
            ctx.body = logoutPage(ctx.host, form);
          },
          postLogoutSuccessSource: (ctx) => {
            ctx.type = 'html';
            ctx.body = logoutSuccessPage(ctx.oidc.client?.clientId);
          },
        },
        pushedAuthorizationRequests: {
          enabled: options.pushedAuthorizationRequests ?? true,
          requirePushedAuthorizationRequests: options.requirePushedAuthorizationRequests ?? false,
        },
        resourceIndicators: {
          enabled: true,
          defaultResource: (_ctx, _client, oneOf) => oneOf,
          // use the resource (audience) of the authorization request at the token endpoint even
          // when openid was requested and the token request names no resource: Auth0's behaviour
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx, resourceIndicator) => resourceServerInfo(resourceIndicator),
        },
        dPoP: dpop
          ? {
              enabled: true,
              ...(requireDpopNonce ? { nonceSecret: dpopNonceSecret, requireNonce: () => true } : {}),
            }
          : { enabled: false },
      },
    };
  }

  function buildProvider(): Provider {
    const op = new Provider(issuer, configuration());

    const passwordParams = ['username', 'password', 'scope', 'audience', 'realm', 'resource'];
    op.registerGrantType('password', passwordGrant, passwordParams);
    op.registerGrantType(PASSWORD_REALM_GRANT, passwordGrant, passwordParams);
    for (const middleware of options.middleware ?? []) op.use(middleware);

    op.use(async (koaCtx, next) => {
      await next();
      const ctx = koaCtx as unknown as KoaContextWithOIDC;
      // ctx.oidc only exists on oidc-provider's own routes
      const oidc = (ctx as { oidc?: KoaContextWithOIDC['oidc'] }).oidc;
      if (!oidc) return;
      const code = oidc.entities.AuthorizationCode;

      if (oidc.route === 'token') {
        if (ctx.status !== 200 || !isRecord(ctx.body)) return;
        // remember the organization of an exchanged code for later refreshes of its grant
        if (code?.grantId) {
          const organization = orgByCode.get(code.jti);
          orgByCode.delete(code.jti);
          if (organization) orgByGrant.set(code.grantId, organization);
          else orgByGrant.delete(code.grantId);
        }
        const rotated = (oidc.entities as { RotatedRefreshToken?: unknown }).RotatedRefreshToken !== undefined;
        if (options.omitUnrotatedRefreshToken && oidc.params?.grant_type === 'refresh_token' && !rotated) {
          delete ctx.body.refresh_token;
        }
        const fn = tamperer;
        if (fn && typeof ctx.body.id_token === 'string') {
          ctx.body = { ...ctx.body, id_token: await tamper(ctx.body.id_token, fn) };
        }
      } else if (code) {
        // an authorization endpoint response issued a code (route 'authorization' or 'resume')
        const organization = oidc.params?.organization;
        if (typeof organization === 'string' && organization) orgByCode.set(code.jti, organization);
      }
    });

    op.on('server_error', (_ctx, err) => {
      serverErrors.push(err);
      console.error('test OP server_error:', err);
    });
    op.on('backchannel.success', (_ctx, client, accountId, sid) => {
      backchannelLogouts.push({ clientId: client.clientId, accountId, sid, ok: true });
    });
    op.on('backchannel.error', (_ctx, err, client, accountId, sid) => {
      backchannelLogouts.push({ clientId: client.clientId, accountId, sid, ok: false, error: err.message });
    });
    return op;
  }

  async function installProvider(): Promise<void> {
    const op = buildProvider();
    // static clients are only validated when first used: surface configuration mistakes now
    for (const client of clients) {
      if (!client.client_id || !(await op.Client.find(client.client_id))) {
        throw new Error(`test OP: client ${client.client_id} could not be loaded`);
      }
    }
    provider = op;
    providerCallback = op.callback();
  }

  // --- HTTP front ---------------------------------------------------------------------------------
  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', issuer);
    const path = url.pathname;
    const counter = COUNTED_PATHS[path];
    if (counter) counts[counter] += 1;

    if (path.startsWith('/interaction/')) {
      await handleInteraction(req, res, path);
      return;
    }

    // Auth0's `audience` is a resource indicator (RFC 8707) for oidc-provider
    if (req.method === 'GET' && path === '/auth') {
      const audience = url.searchParams.get('audience');
      if (audience && !url.searchParams.has('resource')) {
        url.searchParams.set('resource', audience);
        req.url = `${url.pathname}${url.search}`;
      }
    }

    if (req.method === 'POST' && BODY_PATHS.has(path)) {
      const urlencoded = (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
      const params = urlencoded ? new URLSearchParams(await readBody(req)) : undefined;
      if (path === '/token') {
        const grantType = params?.get('grant_type') ?? 'unknown';
        counts.token[grantType] = (counts.token[grantType] ?? 0) + 1;
        tokenRequests.push({ grantType, headers: { ...req.headers }, params: params ? paramsToRecord(params) : {} });
      }
      if (params) {
        rawParams.set(req, params);
        const rewritten = new URLSearchParams(params);
        const audience = params.get('audience');
        if (audience && !params.has('resource')) rewritten.set('resource', audience);
        // We consumed the stream; oidc-provider then falls back to req.body (it would print a
        // one-time notice about an upstream body parser, which quiet.ts drops).
        (req as http.IncomingMessage & { body?: string }).body = rewritten.toString();
      }
    }

    if (!providerCallback) {
      res.statusCode = 503;
      res.end();
      return;
    }
    await providerCallback(req, res);
  }

  async function handleInteraction(req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<void> {
    const match = /^\/interaction\/([^/]+)(?:\/(login|confirm|abort))?$/.exec(path);
    const action = match?.[2];
    // GET /interaction/:uid shows the page; its forms POST to /interaction/:uid/<action>
    const known = match && ((req.method === 'GET' && !action) || (req.method === 'POST' && action));
    if (!match || !known) {
      sendHtml(res, 404, errorPage({ error: 'not_found' }));
      return;
    }
    const uid = match[1];
    const op = currentProvider();

    try {
      // reads the interaction from the op_interaction cookie (scoped to /interaction/<uid>)
      const details = await op.interactionDetails(req, res);
      const { prompt, params } = details;
      if (details.uid !== uid) throw new Error('interaction uid mismatch');

      if (!action) {
        if (prompt.name === 'login') sendHtml(res, 200, loginPage(uid, params.client_id));
        else if (prompt.name === 'consent') sendHtml(res, 200, consentPage(uid, params.client_id, prompt.details));
        else sendHtml(res, 400, errorPage({ error: 'unsupported_prompt', prompt: prompt.name }));
        return;
      }

      if (action === 'abort') {
        await op.interactionFinished(
          req,
          res,
          { error: 'access_denied', error_description: 'End-User aborted interaction' },
          { mergeWithLastSubmission: false },
        );
        return;
      }

      if (action === 'login') {
        const form = new URLSearchParams(await readBody(req));
        const user = checkCredentials(form.get('username'), form.get('password'));
        if (!user) {
          sendHtml(res, 200, loginPage(uid, params.client_id, 'Wrong email or password.'));
          return;
        }
        await op.interactionFinished(req, res, { login: { accountId: user.sub } }, { mergeWithLastSubmission: false });
        return;
      }

      // action === 'confirm': grant everything that is missing
      if (prompt.name !== 'consent' || !details.session) throw new Error(`cannot consent during a ${prompt.name} prompt`);
      const missing = prompt.details as {
        missingOIDCScope?: string[];
        missingOIDCClaims?: string[];
        missingResourceScopes?: Record<string, string[]>;
      };
      const existing = details.grantId ? await op.Grant.find(details.grantId) : undefined;
      const grant = existing ?? new op.Grant({ accountId: details.session.accountId, clientId: String(params.client_id) });
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
      const grantId = await grant.save();
      await op.interactionFinished(req, res, { consent: existing ? {} : { grantId } }, { mergeWithLastSubmission: true });
    } catch (err) {
      // e.g. SessionNotFound when the interaction cookie is missing or the interaction expired
      const e = err as Error & { error?: string; error_description?: string };
      sendHtml(res, 400, errorPage({ error: e.error ?? e.name, error_description: e.error_description ?? e.message }));
    }
  }

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    handle(req, res).catch((err: Error) => {
      serverErrors.push(err);
      console.error('test OP request failed:', err);
      if (res.headersSent) res.destroy();
      else sendHtml(res, 500, errorPage({ error: 'server_error', error_description: err.message }));
    });
  };

  // --- lifecycle ----------------------------------------------------------------------------------
  async function start(): Promise<void> {
    if (server) return;
    const s = http.createServer(onRequest);
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        s.off('error', reject);
        resolve();
      });
    });
    server = s;
    // the first start may have asked for any free port: keep it for later restarts
    port = (s.address() as AddressInfo).port;
  }

  async function stop(): Promise<void> {
    const s = server;
    if (!s) return;
    server = undefined;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      // close() alone waits for keep-alive connections (e.g. fetch's pool) to go idle and time out;
      // destroy them so the OP is unreachable right away
      s.closeAllConnections();
    });
  }

  if (options.autoStart === false && port === 0) {
    // the issuer (and so the port) must be known before the Provider is built
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  }
  if (options.autoStart !== false) await start();
  issuer = `http://127.0.0.1:${port}`;
  try {
    await installProvider();
  } catch (err) {
    await stop();
    throw err;
  }

  // --- browser-driving helpers ------------------------------------------------------------------
  async function signIn(
    browser: Browser,
    startUrl: string,
    user: TestUser | { username: string; password: string } = USERS.alice,
    opts: { consent?: boolean } = {},
  ): Promise<BrowserResponse> {
    const redirects: string[] = [];
    // the returned response lists the redirects of ALL steps of the sign-in, not just the last one
    const step = async (pending: Promise<BrowserResponse>) => {
      const r = await pending;
      redirects.push(...r.redirects);
      return { ...r, redirects: [...redirects] };
    };
    let res = await step(browser.get(startUrl));
    let loginSubmitted = false;
    for (let i = 0; i < 10; i += 1) {
      const onOP = new URL(res.url).origin === issuer;
      const form = onOP ? parseFirstForm(res.body, res.url) : undefined;
      const formPath = form ? new URL(form.action).pathname : '';

      if (form && /^\/interaction\/[^/]+\/login$/.test(formPath)) {
        // the login form again right after submitting it: the credentials were rejected
        if (loginSubmitted) return res;
        loginSubmitted = true;
        res = await step(browser.post(form.action, { username: user.username, password: user.password }));
      } else if (form && /^\/interaction\/[^/]+\/confirm$/.test(formPath)) {
        const target = opts.consent === false ? form.action.replace(/\/confirm$/, '/abort') : form.action;
        res = await step(browser.post(target, {}));
      } else if (form && /<title>Submitting Callback<\/title>/.test(res.body)) {
        // response_mode=form_post: oidc-provider's self-submitting form (a browser runs its script)
        res = await step(browser.submitForm(res));
      } else {
        return res;
      }
    }
    throw new Error(`signIn did not finish; last page: ${res.status} ${res.url}`);
  }

  async function endSession(browser: Browser): Promise<BrowserResponse> {
    // With an OP session this is our logout page around oidc-provider's form (an xsrf field), whose
    // "Yes" button sends logout=yes; without one oidc-provider answers with a self-submitting form.
    const page = await browser.get(`${issuer}/session/end`);
    const res = await browser.submitForm(page, { logout: 'yes' });
    if (res.status >= 400) throw new Error(`end session failed: ${res.status} ${res.body}`);
    return res;
  }

  return {
    get issuer() {
      return issuer;
    },
    get port() {
      return port;
    },
    appBaseURL,
    get provider() {
      return currentProvider();
    },
    store,
    start,
    stop,
    counts,
    tokenRequests,
    backchannelLogouts,
    serverErrors,
    resetCounts() {
      Object.assign(counts, zeroCounts());
      tokenRequests.length = 0;
      backchannelLogouts.length = 0;
    },
    tamperIdToken(fn) {
      tamperer = fn;
    },
    async rotateKeys(opts = {}) {
      // oidc-provider builds its keystore once, in the Provider constructor, and has no API to change
      // it. So: new keys, then a new Provider with the same adapter store, clients, cookie keys
      // (sessions stay valid) and DPoP nonce secret, which takes over the request handler.
      const fresh = await generateSigningKeys();
      privateJwks = opts.keepPrevious ? [...fresh, ...privateJwks] : fresh;
      await installProvider();
    },
    signingKeys() {
      return { privateJwks: privateJwks.map((k) => ({ ...k })), publicJwks: privateJwks.map(publicJwk) };
    },
    signIn,
    endSession,
  };
}
