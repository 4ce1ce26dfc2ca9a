import type * as http from 'node:http';

import { consentPage, errorPage, loginPage } from '../op-views.js';
import { checkCredentials } from '../users.js';
import { currentProvider, type OPState } from './state.js';
import { authenticationLevel } from './step-up.js';
import { readBody, sendHtml } from './util.js';

/** The login and consent pages under /interaction/:uid and their form posts. */
export async function handleInteraction(state: OPState, req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<void> {
  const match = /^\/interaction\/([^/]+)(?:\/(login|confirm|abort))?$/.exec(path);
  const action = match?.[2];
  // GET /interaction/:uid shows the page; its forms POST to /interaction/:uid/<action>
  const known = match && ((req.method === 'GET' && !action) || (req.method === 'POST' && action));
  if (!match || !known) {
    sendHtml(res, 404, errorPage({ error: 'not_found' }));
    return;
  }
  const uid = match[1];
  const op = currentProvider(state);

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
      const login = { accountId: user.sub, ...authenticationLevel(state, params.acr_values) };
      await op.interactionFinished(req, res, { login }, { mergeWithLastSubmission: false });
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
