/**
 * The demo's API: a resource server that knows nothing about sessions. It
 * accepts a request only with a bearer access token that the OP signed for
 * this API (`aud` = the API identifier), checked with jose against the OP's
 * published keys.
 */
import express from 'express';
import { createRemoteJWKSet, jwtVerify } from 'jose';

/**
 * The OP's issuer and signing keys, read from its discovery document on first
 * use. A failed read is not kept, so the next request tries again.
 */
function issuerKeys(issuerBaseURL) {
  let pending;
  return () => {
    pending ??= (async () => {
      const url = new URL(`${issuerBaseURL.replace(/\/+$/, '')}/.well-known/openid-configuration`);
      const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      if (!res.ok) throw new Error(`discovery answered ${res.status}`);
      const metadata = await res.json();
      return { issuer: metadata.issuer, keys: createRemoteJWKSet(new URL(metadata.jwks_uri)) };
    })().catch((err) => {
      pending = undefined;
      throw err;
    });
    return pending;
  };
}

function deny(res, status, error, description) {
  // RFC 6750: tell the client what was wrong with its token, not what the token was.
  res.set('www-authenticate', `Bearer error="${error}", error_description="${description}"`);
  res.status(status).json({ error, error_description: description });
}

/**
 * A router with `GET /messages`, protected by bearer-token validation.
 *
 * @param {{ issuerBaseURL: string, audience: string }} options
 */
export function apiRouter({ issuerBaseURL, audience }) {
  const keys = issuerKeys(issuerBaseURL);
  const router = express.Router();

  router.use(async (req, res, next) => {
    const match = /^Bearer ([\w.~+/-]+=*)$/.exec(req.headers.authorization ?? '');
    if (!match) return deny(res, 401, 'invalid_request', 'a bearer access token is required');
    try {
      const { issuer, keys: jwks } = await keys();
      const { payload } = await jwtVerify(match[1], jwks, { issuer, audience });
      req.auth = payload;
      next();
    } catch (err) {
      if (err?.code?.startsWith?.('ERR_J')) return deny(res, 401, 'invalid_token', `the access token was refused (${err.code})`);
      next(err);
    }
  });

  router.get('/messages', (req, res) => {
    res.json({
      message: `Hello ${req.auth.sub}, this answer comes from an API that checked your access token.`,
      sub: req.auth.sub,
      scope: req.auth.scope ?? null,
      issuedAt: req.auth.iat,
      expiresAt: req.auth.exp,
    });
  });

  return router;
}
