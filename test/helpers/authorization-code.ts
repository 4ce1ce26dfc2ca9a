/**
 * Authorization codes from the test OP without an app: a bare HTTP server stands at the client's
 * redirect URI and answers 200, so a browser sign-in ends there with the code in its URL.
 */
import http from 'node:http';

import { Browser } from './browser.js';
import type { TestOP, TestUser } from './op.js';

export interface RedirectCatcher {
  /** the redirect URI registered for the default clients: `${appBaseURL}/callback` */
  redirectUri: string;
  close(): Promise<void>;
}

/** Listens on the port of `op.appBaseURL` (127.0.0.1) and answers every request with 200. */
export async function startRedirectCatcher(op: TestOP): Promise<RedirectCatcher> {
  const base = new URL(op.appBaseURL);
  const server = http.createServer((_req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end('caught');
  });
  await new Promise<void>((resolve) => server.listen(Number(base.port), '127.0.0.1', resolve));
  return {
    redirectUri: `${op.appBaseURL}/callback`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Signs `user` in at the OP's authorization endpoint with `params` (client_id, redirect_uri,
 * scope, nonce...) and returns the parameters the OP redirected back with (code, state, iss...).
 */
export async function authorize(op: TestOP, params: Record<string, string>, user?: TestUser): Promise<URLSearchParams> {
  const url = new URL(`${op.issuer}/auth`);
  for (const [key, value] of Object.entries({ response_type: 'code', ...params })) url.searchParams.set(key, value);
  const landed = await op.signIn(new Browser(), url.href, user);
  const back = new URL(landed.url);
  if (landed.status !== 200 || back.origin !== new URL(op.appBaseURL).origin) {
    throw new Error(`authorize did not come back to the redirect URI: ${landed.status} ${landed.url}`);
  }
  return back.searchParams;
}
