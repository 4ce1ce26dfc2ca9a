/**
 * Auth0's MFA API: the `mfa_token` a password grant answers `mfa_required` with, `/mfa/challenge`,
 * and the grants that finish the login with a second factor (`mfa-otp`, `mfa-oob`,
 * `mfa-recovery-code`). Modelled on Auth0's answers: a wrong code is `invalid_grant`, an expired
 * token `expired_token`, too many wrong codes `too_many_attempts`.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type * as http from 'node:http';

import type Provider from 'oidc-provider';
import type { TokenEndpointGrantContext } from 'oidc-provider';

import { checkTotp } from '../totp.js';
import { findUserBySub, type TestUser } from '../users.js';
import { issueTokens } from './password-grant.js';
import type { OPState } from './state.js';
import { readBody } from './util.js';

export const MFA_OTP_GRANT = 'http://auth0.com/oauth/grant-type/mfa-otp';
export const MFA_OOB_GRANT = 'http://auth0.com/oauth/grant-type/mfa-oob';
export const MFA_RECOVERY_CODE_GRANT = 'http://auth0.com/oauth/grant-type/mfa-recovery-code';
/** Seconds an mfa_token lives, as at Auth0. */
export const MFA_TOKEN_TTL = 600;
/** Wrong codes the OP takes for one mfa_token before it answers too_many_attempts. */
export const OP_MAX_FAILURES = 10;

interface MfaTokenRecord {
  sub: string;
  clientId: string;
  scope: string | undefined;
  resource: string | undefined;
  /** epoch ms */
  expiresAt: number;
  failures: number;
  used: boolean;
}

/** What the OP keeps of the MFA API; `TestOP.mfa` shows it to tests. */
export interface MfaState {
  readonly tokens: Map<string, MfaTokenRecord>;
  /** every mfa_token issued, in order */
  readonly issued: string[];
  /** out-of-band challenges by oob_code: the code "sent" to the user's phone */
  readonly oob: Map<string, { mfaToken: string; bindingCode: string }>;
  /** the user's current recovery code, by sub (a used one is replaced) */
  readonly recoveryCodes: Map<string, string>;
  /** /mfa/challenge requests, body and headers as sent */
  readonly challenges: Array<{ params: Record<string, string>; headers: http.IncomingHttpHeaders }>;
}

export function createMfaState(): MfaState {
  return { tokens: new Map(), issued: [], oob: new Map(), recoveryCodes: new Map(), challenges: [] };
}

/** A new mfa_token for a password login that needs a second factor. */
export function issueMfaToken(state: OPState, login: Omit<MfaTokenRecord, 'expiresAt' | 'failures' | 'used'>): string {
  const token = randomBytes(24).toString('base64url');
  state.mfa.tokens.set(token, { ...login, expiresAt: Date.now() + MFA_TOKEN_TTL * 1000, failures: 0, used: false });
  state.mfa.issued.push(token);
  return token;
}

function refuse(ctx: TokenEndpointGrantContext, status: number, error: string, description: string): void {
  ctx.status = status;
  ctx.body = { error, error_description: description };
}

/** The login an mfa_token stands for, or undefined after answering why not. */
function pendingLogin(state: OPState, ctx: TokenEndpointGrantContext): { record: MfaTokenRecord; user: TestUser } | undefined {
  const token = ctx.oidc.params?.mfa_token;
  const record = typeof token === 'string' ? state.mfa.tokens.get(token) : undefined;
  const user = record ? findUserBySub(record.sub) : undefined;
  if (!record || !user || record.used || record.clientId !== ctx.oidc.client?.clientId) {
    refuse(ctx, 403, 'invalid_grant', 'Malformed mfa_token');
    return undefined;
  }
  if (record.expiresAt <= Date.now()) {
    refuse(ctx, 403, 'expired_token', 'mfa_token is expired');
    return undefined;
  }
  if (record.failures >= OP_MAX_FAILURES) {
    refuse(ctx, 429, 'too_many_attempts', 'Too many invalid codes. The mfa_token is no longer usable.');
    return undefined;
  }
  return { record, user };
}

function wrongCode(ctx: TokenEndpointGrantContext, record: MfaTokenRecord, description: string): void {
  record.failures += 1;
  refuse(ctx, 403, 'invalid_grant', description);
}

async function finish(state: OPState, ctx: TokenEndpointGrantContext, record: MfaTokenRecord, user: TestUser, factor: string): Promise<void> {
  record.used = true;
  await issueTokens(state, ctx, user, { scope: record.scope, resource: record.resource, amr: ['pwd', factor, 'mfa'] });
}

export function registerMfaGrants(op: Provider, state: OPState): void {
  op.registerGrantType(
    MFA_OTP_GRANT,
    async (ctx) => {
      const login = pendingLogin(state, ctx);
      if (!login) return;
      const { record, user } = login;
      if (!user.otpSecret || !checkTotp(user.otpSecret, ctx.oidc.params?.otp)) return wrongCode(ctx, record, 'Invalid otp_code.');
      await finish(state, ctx, record, user, 'otp');
    },
    ['mfa_token', 'otp'],
  );
  op.registerGrantType(
    MFA_OOB_GRANT,
    async (ctx) => {
      const login = pendingLogin(state, ctx);
      if (!login) return;
      const { record, user } = login;
      const oobCode = ctx.oidc.params?.oob_code;
      const challenge = typeof oobCode === 'string' ? state.mfa.oob.get(oobCode) : undefined;
      if (!challenge || state.mfa.tokens.get(challenge.mfaToken) !== record) return refuse(ctx, 403, 'invalid_grant', 'Invalid oob_code.');
      if (ctx.oidc.params?.binding_code !== challenge.bindingCode) return wrongCode(ctx, record, 'Invalid binding_code.');
      state.mfa.oob.delete(oobCode as string);
      await finish(state, ctx, record, user, 'oob');
    },
    ['mfa_token', 'oob_code', 'binding_code'],
  );
  op.registerGrantType(
    MFA_RECOVERY_CODE_GRANT,
    async (ctx) => {
      const login = pendingLogin(state, ctx);
      if (!login) return;
      const { record, user } = login;
      const current = state.mfa.recoveryCodes.get(user.sub) ?? user.recoveryCode;
      if (!current || ctx.oidc.params?.recovery_code !== current) return wrongCode(ctx, record, 'Invalid recovery_code.');
      await finish(state, ctx, record, user, 'recovery-code');
      // Auth0 replaces a used recovery code and returns the new one with the tokens
      const next = randomBytes(13).toString('hex').toUpperCase();
      state.mfa.recoveryCodes.set(user.sub, next);
      ctx.body = { ...(ctx.body as Record<string, unknown>), recovery_code: next };
    },
    ['mfa_token', 'recovery_code'],
  );
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.setHeader('cache-control', 'no-store');
  res.end(JSON.stringify(body));
}

/** The client of a /mfa/challenge request, authenticated by Basic, or client_id and client_secret in the body. */
function authenticatedClient(state: OPState, req: http.IncomingMessage, params: URLSearchParams): string | undefined {
  let clientId = params.get('client_id') ?? undefined;
  let secret = params.get('client_secret') ?? undefined;
  const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
  if (basic) {
    const [id, pass] = Buffer.from(basic[1] as string, 'base64').toString('utf8').split(':').map((part) => decodeURIComponent(part));
    clientId = id;
    secret = pass;
  }
  const client = state.clients.find((c) => c.client_id === clientId);
  if (!client) return undefined;
  if (client.token_endpoint_auth_method === 'none') return client.client_id;
  return client.client_secret !== undefined && client.client_secret === secret ? client.client_id : undefined;
}

/** POST /mfa/challenge: `otp` needs nothing more; `oob` "sends" a code to the user's phone. */
export async function handleMfaChallenge(state: OPState, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const params = new URLSearchParams(await readBody(req));
  state.mfa.challenges.push({ params: Object.fromEntries(params), headers: { ...req.headers } });
  const clientId = authenticatedClient(state, req, params);
  if (!clientId) return sendJson(res, 401, { error: 'invalid_client', error_description: 'Client authentication failed' });
  const token = params.get('mfa_token') ?? '';
  const record = state.mfa.tokens.get(token);
  if (!record || record.used || record.clientId !== clientId) return sendJson(res, 403, { error: 'invalid_grant', error_description: 'Malformed mfa_token' });
  if (record.expiresAt <= Date.now()) return sendJson(res, 403, { error: 'expired_token', error_description: 'mfa_token is expired' });
  const types = (params.get('challenge_type') ?? 'otp oob').split(' ');
  const authenticator = params.get('authenticator_id');
  // an SMS authenticator, or no authenticator named and only oob acceptable
  const oob = types.includes('oob') && (authenticator === null ? !types.includes('otp') : authenticator.startsWith('sms|'));
  if (oob) {
    const oobCode = randomBytes(16).toString('base64url');
    state.mfa.oob.set(oobCode, { mfaToken: token, bindingCode: String(randomInt(0, 1_000_000)).padStart(6, '0') });
    return sendJson(res, 200, { challenge_type: 'oob', oob_code: oobCode, binding_method: 'prompt' });
  }
  if (types.includes('otp')) return sendJson(res, 200, { challenge_type: 'otp' });
  sendJson(res, 400, { error: 'unsupported_challenge_type', error_description: 'The user is not enrolled with a factor of this type' });
}
