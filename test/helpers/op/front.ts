import type * as http from 'node:http';

import { errorPage } from '../op-views.js';
import { countRequest, recordTokenRequest } from './counts.js';
import { handleInteraction } from './interactions.js';
import { allowListedResource } from './multi-resource.js';
import { applyReuseInterval } from './reuse-interval.js';
import { handleMfaChallenge } from './mfa.js';
import type { OPState } from './state.js';
import { readBody, sendHtml } from './util.js';

// POST endpoints whose urlencoded bodies we read ourselves (to record them and map audience->resource)
const BODY_PATHS = new Set(['/token', '/request', '/auth']);

/**
 * The HTTP front: counts, records token requests, maps audience to resource, serves the
 * login/consent pages under /interaction/:uid, and hands everything else to oidc-provider.
 */
async function handle(state: OPState, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', state.issuer);
  const path = url.pathname;
  countRequest(state, path);

  if (req.method === 'POST' && path === '/mfa/challenge') {
    await handleMfaChallenge(state, req, res);
    return;
  }

  if (path.startsWith('/interaction/')) {
    await handleInteraction(state, req, res, path);
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
    if (path === '/token') recordTokenRequest(state, req, params);
    if (path === '/token' && params) {
      applyReuseInterval(state, params);
      if (allowListedResource(state, params) === 'refused') {
        res.statusCode = 400;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ error: 'invalid_target', error_description: 'the refresh token may not be used for this API' }));
        return;
      }
    }
    if (params) {
      state.rawParams.set(req, params);
      const rewritten = new URLSearchParams(params);
      const audience = params.get('audience');
      if (audience && !params.has('resource')) rewritten.set('resource', audience);
      // We consumed the stream; oidc-provider then falls back to req.body (it would print a
      // one-time notice about an upstream body parser, which quiet.ts drops).
      (req as http.IncomingMessage & { body?: string }).body = rewritten.toString();
    }
  }

  if (!state.providerCallback) {
    res.statusCode = 503;
    res.end();
    return;
  }
  await state.providerCallback(req, res);
}

/** The node http request listener of the test OP. */
export function requestListener(state: OPState): http.RequestListener {
  return (req, res) => {
    handle(state, req, res).catch((err: Error) => {
      state.serverErrors.push(err);
      console.error('test OP request failed:', err);
      if (res.headersSent) res.destroy();
      else sendHtml(res, 500, errorPage({ error: 'server_error', error_description: err.message }));
    });
  };
}
