import Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';

import { trackOrganization } from './accounts.js';
import { recordBackchannelLogouts } from './backchannel-logout.js';
import { configuration } from './configuration.js';
import { tamper } from './keys.js';
import { registerMfaGrants } from './mfa.js';
import { registerPasswordGrants } from './password-grant.js';
import { registerTokenExchangeGrants } from './token-exchange.js';
import { recordRotation } from './reuse-interval.js';
import type { OPState } from './state.js';
import { isRecord } from './util.js';

/** A Provider for the current keys, with the Auth0-like grants and response adjustments. */
function buildProvider(state: OPState): Provider {
  const { options } = state;
  const op = new Provider(state.issuer, configuration(state));

  registerPasswordGrants(op, state);
  registerTokenExchangeGrants(op, state);
  for (const middleware of options.middleware ?? []) op.use(middleware);
  registerMfaGrants(op, state);

  op.use(async (koaCtx, next) => {
    await next();
    const ctx = koaCtx as unknown as KoaContextWithOIDC;
    // ctx.oidc only exists on oidc-provider's own routes
    const oidc = (ctx as { oidc?: KoaContextWithOIDC['oidc'] }).oidc;
    if (!oidc) return;

    if (oidc.route !== 'token') {
      trackOrganization(state, oidc, false);
      return;
    }
    if (ctx.status !== 200 || !isRecord(ctx.body)) return;
    trackOrganization(state, oidc, true);
    recordRotation(state, oidc, ctx.body);
    const rotated = (oidc.entities as { RotatedRefreshToken?: unknown }).RotatedRefreshToken !== undefined;
    if (options.omitUnrotatedRefreshToken && oidc.params?.grant_type === 'refresh_token' && !rotated) {
      delete ctx.body.refresh_token;
    }
    const fn = state.tamperer;
    if (fn && typeof ctx.body.id_token === 'string') {
      ctx.body = { ...ctx.body, id_token: await tamper(state, ctx.body.id_token, fn) };
    }
  });

  op.on('server_error', (_ctx, err) => {
    state.serverErrors.push(err);
    console.error('test OP server_error:', err);
  });
  recordBackchannelLogouts(op, state);
  return op;
}

/** Builds a Provider and makes it handle requests from now on. */
export async function installProvider(state: OPState): Promise<void> {
  const op = buildProvider(state);
  // static clients are only validated when first used: surface configuration mistakes now
  for (const client of state.clients) {
    if (!client.client_id || !(await op.Client.find(client.client_id))) {
      throw new Error(`test OP: client ${client.client_id} could not be loaded`);
    }
  }
  state.provider = op;
  state.providerCallback = op.callback();
}
