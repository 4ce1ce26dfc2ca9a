/**
 * Drives a login up to the moment the OP sends the browser back to the app, and stops there, so a
 * test can change, drop, replay or redirect the authorization response before the app sees it.
 * `op.signIn` is the same walk without the stop.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ClientMetadata } from 'oidc-provider';
import { parseFirstForm, type Browser, type BrowserResponse } from './browser.js';
import { defaultClients } from './op.js';
import { USERS, type TestUser } from './users.js';

/** The authorization response, as the OP would deliver it to the app's callback. */
export type CallbackDelivery =
  | { method: 'GET'; url: URL }
  | { method: 'POST'; url: URL; fields: URLSearchParams };

const REDIRECT = new Set([301, 302, 303, 307, 308]);

export interface AuthorizeOptions {
  user?: TestUser;
  /** false: refuse consent, so the OP answers access_denied */
  consent?: boolean;
}

/**
 * Starts at `startUrl` (an app URL such as `/login`, or an OP authorization URL), logs in at the
 * OP and returns the response the OP would send to any URL whose path is `callbackPath`, without
 * sending it.
 */
export async function authorizeUntilCallback(
  browser: Browser,
  startUrl: string,
  callbackPath = '/callback',
  options: AuthorizeOptions = {},
): Promise<CallbackDelivery> {
  const user = options.user ?? USERS.alice;
  const isCallback = (url: URL) => url.pathname === callbackPath;
  let res: BrowserResponse = await browser.get(startUrl, { follow: false });
  for (let step = 0; step < 20; step += 1) {
    const location = res.headers.get('location');
    if (REDIRECT.has(res.status) && location) {
      const next = new URL(location, res.url);
      if (isCallback(next)) return { method: 'GET', url: next };
      res = await browser.get(next.href, { follow: false });
      continue;
    }
    const form = parseFirstForm(res.body, res.url);
    if (!form || res.status !== 200) throw new Error(`login stopped at ${res.status} ${res.url}: ${res.body.slice(0, 300)}`);
    const action = new URL(form.action);
    if (isCallback(action)) return { method: 'POST', url: action, fields: new URLSearchParams(form.fields) };
    if (/\/interaction\/[^/]+\/login$/.test(action.pathname)) {
      res = await browser.post(action.href, { username: user.username, password: user.password }, { follow: false });
    } else if (/\/interaction\/[^/]+\/confirm$/.test(action.pathname)) {
      const target = options.consent === false ? action.href.replace(/\/confirm$/, '/abort') : action.href;
      res = await browser.post(target, {}, { follow: false });
    } else {
      throw new Error(`unexpected form at ${res.url} (action ${action.href})`);
    }
  }
  throw new Error('login did not reach the callback');
}

/** Sends a captured authorization response to the app (optionally to another URL), following redirects. */
export function deliver(browser: Browser, delivery: CallbackDelivery, target?: URL): Promise<BrowserResponse> {
  const url = new URL(target ?? delivery.url);
  if (delivery.method === 'GET') {
    if (target) url.search = delivery.url.search;
    return browser.get(url.href);
  }
  return browser.post(url.href, delivery.fields);
}

/** The parameters of a captured response (query or form), to be changed and re-sent. */
export function paramsOf(delivery: CallbackDelivery): URLSearchParams {
  return delivery.method === 'GET' ? delivery.url.searchParams : delivery.fields;
}

/** The default test clients, allowed to redirect to every app in `baseURLs` (one OP, several apps). */
export function clientsFor(baseURLs: string[]): ClientMetadata[] {
  const [first = 'http://127.0.0.1:3000', ...rest] = baseURLs;
  return defaultClients(first).map((client) => ({
    ...client,
    redirect_uris: [...(client.redirect_uris ?? []), ...rest.map((base) => `${base}/callback`)],
    post_logout_redirect_uris: [...(client.post_logout_redirect_uris ?? []), ...rest.flatMap((base) => [base, `${base}/`])],
  }));
}

/** What the test app's `/` says about the browser's session. */
export async function whoAmI(browser: Browser, appUrl: string): Promise<{ authenticated: boolean; user: Record<string, unknown> | null }> {
  const res = await browser.get(`${appUrl}/`, { headers: { accept: 'application/json' } });
  return JSON.parse(res.body) as { authenticated: boolean; user: Record<string, unknown> | null };
}

/** The JSON the test app's error handler renders (code, error, message), or undefined for other bodies. */
export function errorBody(res: BrowserResponse): { code?: string; error?: string; message?: string } | undefined {
  try {
    return JSON.parse(res.body) as { code?: string; error?: string; message?: string };
  } catch {
    return undefined;
  }
}

/** A transaction cookie of the browser, with its payload decoded (the test knows the app's secret). */
export interface TransactionCookie {
  name: string;
  value: string;
  payload: { state: string; nonce: string; codeVerifier: string; appState: Record<string, unknown>; createdAt: number; [key: string]: unknown };
}

/** The browser's transaction cookies (`auth_verification.<state>`), oldest first as stored. */
export function transactionCookies(browser: Browser, prefix = 'auth_verification.'): TransactionCookie[] {
  return browser.cookies
    .all()
    .filter((cookie) => cookie.name.startsWith(prefix))
    .map((cookie) => {
      const payload = cookie.value.slice(0, cookie.value.lastIndexOf('.'));
      return { name: cookie.name, value: cookie.value, payload: JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as TransactionCookie['payload'] };
    });
}

/** `count` distinct ports that were free a moment ago (held together while probing, so never the same twice). */
export async function freePorts(count: number): Promise<number[]> {
  const probes = Array.from({ length: count }, () => createServer());
  const ports = await Promise.all(
    probes.map((probe) => new Promise<number>((resolve) => probe.listen(0, '127.0.0.1', () => resolve((probe.address() as AddressInfo).port)))),
  );
  await Promise.all(probes.map((probe) => new Promise<void>((resolve) => probe.close(() => resolve()))));
  return ports;
}
