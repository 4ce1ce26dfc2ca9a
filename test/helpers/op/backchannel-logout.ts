import type Provider from 'oidc-provider';

import type { Browser, BrowserResponse } from '../browser.js';
import type { OPState } from './state.js';

/** Records every back-channel logout delivery, successful or not, in order. */
export function recordBackchannelLogouts(op: Provider, state: OPState): void {
  op.on('backchannel.success', (_ctx, client, accountId, sid) => {
    state.backchannelLogouts.push({ clientId: client.clientId, accountId, sid, ok: true });
  });
  op.on('backchannel.error', (_ctx, err, client, accountId, sid) => {
    state.backchannelLogouts.push({ clientId: client.clientId, accountId, sid, ok: false, error: err.message });
  });
}

/**
 * RP-independent logout at the OP (GET /session/end + confirm): ends the OP session of `browser`
 * and, before resolving, delivers back-channel logout tokens to the clients of that session.
 */
export async function endSession(state: OPState, browser: Browser): Promise<BrowserResponse> {
  // With an OP session this is our logout page around oidc-provider's form (an xsrf field), whose
  // "Yes" button sends logout=yes; without one oidc-provider answers with a self-submitting form.
  const page = await browser.get(`${state.issuer}/session/end`);
  const res = await browser.submitForm(page, { logout: 'yes' });
  if (res.status >= 400) throw new Error(`end session failed: ${res.status} ${res.body}`);
  return res;
}
