/**
 * A small API (resource server) on 127.0.0.1 that accepts access tokens the way RFC 9449 asks:
 * a token bound to a key (`cnf.jkt`) is only accepted with `Authorization: DPoP` and a valid proof
 * signed by that key (typ, signature with the embedded JWK, htm, htu, ath, iat, jti not replayed,
 * and the server's nonce when nonces are on). Unbound tokens are accepted as Bearer tokens.
 *
 * The binding is read from the token itself when it is a JWT (verified against the OP's JWKS), or
 * from the OP's introspection endpoint when it is opaque.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EmbeddedJWK, calculateJwkThumbprint, createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWK } from 'jose';

export type NonceMode =
  /** no nonces */
  | 'off'
  /** a nonce is required; it stays valid until the server is told to rotate it */
  | 'required'
  /** every request is answered with a use_dpop_nonce challenge and a new nonce: nothing ever satisfies it */
  | 'always-new';

export interface ResourceRequestRecord {
  method: string;
  path: string;
  authorization: string | undefined;
  dpop: string | undefined;
  status: number;
  /** why a request was refused ('' when accepted) */
  reason: string;
}

export interface TestResourceServer {
  readonly url: string;
  readonly requests: ResourceRequestRecord[];
  nonceMode: NonceMode;
  /** the nonce currently accepted (mode 'required') */
  readonly nonce: string;
  rotateNonce(): void;
  close(): Promise<void>;
}

const b64urlSha256 = (value: string): string => createHash('sha256').update(value).digest('base64url');

export async function startResourceServer(opts: {
  issuer: string;
  /** client that may introspect opaque tokens */
  introspection: { clientId: string; clientSecret: string };
  nonceMode?: NonceMode;
}): Promise<TestResourceServer> {
  const jwks = createRemoteJWKSet(new URL(`${opts.issuer}/jwks`));
  const seenJti = new Set<string>();
  const requests: ResourceRequestRecord[] = [];
  let nonceMode: NonceMode = opts.nonceMode ?? 'off';
  let nonce = randomBytes(16).toString('base64url');
  let origin = '';

  /** The token's `cnf.jkt` (undefined when unbound), or null when the token is not valid at all. */
  async function bindingOf(token: string): Promise<{ jkt: string | undefined; sub: unknown } | null> {
    if (token.split('.').length === 3) {
      try {
        const { payload } = await jwtVerify(token, jwks, { issuer: opts.issuer });
        const cnf = payload.cnf as { jkt?: unknown } | undefined;
        return { jkt: typeof cnf?.jkt === 'string' ? cnf.jkt : undefined, sub: payload.sub };
      } catch {
        return null;
      }
    }
    const basic = Buffer.from(`${opts.introspection.clientId}:${opts.introspection.clientSecret}`).toString('base64');
    const response = await fetch(`${opts.issuer}/token/introspection`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }).toString(),
    });
    const body = (await response.json()) as { active?: boolean; cnf?: { jkt?: string }; sub?: unknown };
    if (body.active !== true) return null;
    return { jkt: body.cnf?.jkt, sub: body.sub };
  }

  /** '' when the proof is fine, else why not. */
  async function checkProof(req: http.IncomingMessage, proof: string, token: string, jkt: string): Promise<string> {
    let header: { jwk?: JWK; typ?: string };
    try {
      header = decodeProtectedHeader(proof) as { jwk?: JWK; typ?: string };
      const { payload } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256', 'ES384', 'EdDSA', 'Ed25519', 'PS256', 'RS256'] });
      if ((await calculateJwkThumbprint(header.jwk as JWK, 'sha256')) !== jkt) return 'proof key does not match cnf.jkt';
      if (payload.htm !== req.method) return 'htm mismatch';
      const expectedHtu = `${origin}${new URL(req.url ?? '/', origin).pathname}`;
      if (payload.htu !== expectedHtu) return 'htu mismatch';
      if (payload.ath !== b64urlSha256(token)) return 'ath mismatch';
      if (typeof payload.iat !== 'number' || Math.abs(payload.iat - Date.now() / 1000) > 60) return 'iat not recent';
      if (typeof payload.jti !== 'string' || seenJti.has(payload.jti)) return 'jti replayed';
      seenJti.add(payload.jti);
      if (nonceMode === 'always-new' || (nonceMode === 'required' && payload.nonce !== nonce)) return 'use_dpop_nonce';
      return '';
    } catch (err) {
      return `invalid proof (${(err as Error).message})`;
    }
  }

  const server = http.createServer((req, res) => {
    void (async () => {
      const record: ResourceRequestRecord = {
        method: req.method ?? '',
        path: new URL(req.url ?? '/', origin).pathname,
        authorization: req.headers.authorization,
        dpop: typeof req.headers.dpop === 'string' ? req.headers.dpop : undefined,
        status: 0,
        reason: '',
      };
      requests.push(record);
      const answer = (status: number, body: Record<string, unknown>, headers: Record<string, string> = {}) => {
        record.status = status;
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };
      const refuse = (reason: string, scheme: 'DPoP' | 'Bearer') => {
        record.reason = reason;
        if (reason === 'use_dpop_nonce') {
          if (nonceMode === 'always-new') nonce = randomBytes(16).toString('base64url');
          return answer(401, { error: 'use_dpop_nonce' }, { 'www-authenticate': 'DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"', 'dpop-nonce': nonce });
        }
        return answer(401, { error: 'invalid_token', reason }, { 'www-authenticate': `${scheme} error="invalid_token"` });
      };

      const match = /^(DPoP|Bearer) (\S+)$/i.exec(req.headers.authorization ?? '');
      if (!match) return refuse('no access token', 'Bearer');
      const scheme = (match[1] as string).toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer';
      const token = match[2] as string;
      const binding = await bindingOf(token);
      if (binding === null) return refuse('token not valid', scheme);
      if (binding.jkt === undefined) {
        if (scheme !== 'Bearer') return refuse('unbound token sent as DPoP', 'Bearer');
        return answer(200, { sub: binding.sub, bound: false, method: req.method });
      }
      if (scheme !== 'DPoP') return refuse('DPoP-bound token sent without DPoP', 'DPoP');
      const proofs = req.headers.dpop;
      if (typeof proofs !== 'string' || proofs.includes(',')) return refuse('no single DPoP proof', 'DPoP');
      const problem = await checkProof(req, proofs, token, binding.jkt);
      if (problem !== '') return refuse(problem, 'DPoP');
      return answer(200, { sub: binding.sub, bound: true, jkt: binding.jkt, method: req.method });
    })().catch((err: Error) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'server_error', message: err.message }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: origin,
    requests,
    get nonceMode() {
      return nonceMode;
    },
    set nonceMode(mode: NonceMode) {
      nonceMode = mode;
    },
    get nonce() {
      return nonce;
    },
    rotateNonce() {
      nonce = randomBytes(16).toString('base64url');
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
