/**
 * Transaction cookies: one signed cookie per login keyed by its state, short-lived, read once,
 * verified with every secret of a rotation, pruned beyond five logins in flight.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sign } from 'cookie-signature';
import { getConfig } from '../../src/config/index.js';
import type { AuthOptions } from '../../src/config/types.js';
import { MAX_OPEN_TRANSACTIONS, MAX_TRANSACTION_COOKIE_BYTES, TRANSACTION_BUDGET_BYTES, TRANSACTION_TTL, TransactionCookies, parseCookies, type Transaction } from '../../src/transaction/index.js';
import { OidcError } from '../../src/errors.js';

const OLD_SECRET = 'the-old-secret-that-is-at-least-32-characters';
const NEW_SECRET = 'the-new-secret-that-is-at-least-32-characters';
const BASE: AuthOptions = { issuerBaseURL: 'https://op.example.com', baseURL: 'https://app.example.com', clientID: 'c', clientSecret: 's', secret: NEW_SECRET };

const cookies = (options: Partial<AuthOptions> = {}) => new TransactionCookies(getConfig({ ...BASE, ...options }, {}));

/** A response that only records its headers. */
function fakeResponse() {
  const headers = new Map<string, unknown>();
  const res = {
    getHeader: (name: string) => headers.get(name.toLowerCase()),
    setHeader: (name: string, value: unknown) => headers.set(name.toLowerCase(), value),
  };
  return { res: res as unknown as ServerResponse, setCookies: () => (headers.get('set-cookie') as string[] | undefined) ?? [] };
}

function fakeRequest(cookie?: string): IncomingMessage {
  return { headers: cookie === undefined ? {} : { cookie } } as IncomingMessage;
}

let counter = 0;
function transaction(overrides: Partial<Transaction> = {}): Transaction {
  counter += 1;
  const state = `state-${String(counter).padStart(4, '0')}-abcdefghijklmnop`;
  return { state, nonce: 'nonce', codeVerifier: 'verifier', appState: { returnTo: '/' }, createdAt: Math.floor(Date.now() / 1000), ...overrides };
}

/** Saves `tx` and returns the `name=value` pair a browser would send back. */
function saved(tc: TransactionCookies, tx: Transaction, cookieHeader?: string): { pair: string; setCookie: string } {
  const { res, setCookies } = fakeResponse();
  tc.save(fakeRequest(cookieHeader), res, tx);
  // `__Host-auth_verification.<state>` on https, `auth_verification.<state>` on http.
  const setCookie = setCookies().find((c) => c.slice(0, c.indexOf('=')).endsWith(`auth_verification.${tx.state}`)) ?? '';
  return { pair: setCookie.split(';')[0] ?? '', setCookie };
}

function takeError(fn: () => unknown): OidcError {
  try {
    fn();
  } catch (err) {
    if (err instanceof OidcError) return err;
    throw err;
  }
  throw new Error('expected take() to throw');
}

test('save: a signed cookie named after the state, HttpOnly, short-lived, Secure on https', () => {
  const tx = transaction();
  const { setCookie } = saved(cookies(), tx);
  expect(setCookie).toMatch(new RegExp(`^__Host-auth_verification\\.${tx.state}=`));
  expect(setCookie).toContain(`Max-Age=${TRANSACTION_TTL}`);
  expect(setCookie).toContain('; HttpOnly');
  expect(setCookie).toContain('; Path=/');
  expect(setCookie).toContain('; Secure');
  expect(setCookie).toContain('; SameSite=Lax');
  expect(setCookie).not.toContain('verifier"'); // signed base64url, not readable JSON
});

test('save: a form_post login on https uses SameSite=None (the callback is a cross-site POST)', () => {
  const { setCookie } = saved(cookies(), transaction({ responseMode: 'form_post' }));
  expect(setCookie).toContain('; SameSite=None');
  expect(setCookie).toContain('; Secure');
});

test('save: on http, no Secure attribute', () => {
  const { setCookie } = saved(cookies({ baseURL: 'http://localhost:3000' }), transaction());
  expect(setCookie).not.toContain('Secure');
});

test('take: returns the transaction and clears its cookie', () => {
  const tc = cookies();
  const tx = transaction();
  const { pair } = saved(tc, tx);
  const { res, setCookies } = fakeResponse();
  expect(tc.take(fakeRequest(pair), res, tx.state)).toEqual(tx);
  expect(setCookies().some((c) => c.startsWith(`__Host-auth_verification.${tx.state}=;`) && c.includes('Max-Age=0'))).toBe(true);
});

test('secret rotation: a cookie signed with an older secret still verifies; new cookies use the first secret', () => {
  const tx = transaction();
  const { pair } = saved(cookies({ secret: OLD_SECRET }), tx);
  const rotated = cookies({ secret: [NEW_SECRET, OLD_SECRET] });
  expect(rotated.take(fakeRequest(pair), fakeResponse().res, tx.state).state).toBe(tx.state);

  const fresh = transaction();
  const { pair: freshPair } = saved(rotated, fresh);
  expect(cookies({ secret: NEW_SECRET }).take(fakeRequest(freshPair), fakeResponse().res, fresh.state).state).toBe(fresh.state);
  expect(takeError(() => cookies({ secret: OLD_SECRET }).take(fakeRequest(freshPair), fakeResponse().res, fresh.state)).code).toBe('ERR_TRANSACTION_INVALID');
});

test('take: no login in progress -> ERR_TRANSACTION_MISSING; other logins only -> ERR_STATE_MISMATCH', () => {
  const tc = cookies();
  const tx = transaction();
  expect(takeError(() => tc.take(fakeRequest(), fakeResponse().res, tx.state)).code).toBe('ERR_TRANSACTION_MISSING');
  const { pair } = saved(tc, transaction());
  expect(takeError(() => tc.take(fakeRequest(pair), fakeResponse().res, tx.state)).code).toBe('ERR_STATE_MISMATCH');
});

test('take: a state that cannot be one of ours is never looked up', () => {
  const tc = cookies();
  const odd = 'short';
  const forged = `__Host-auth_verification.${odd}=${sign(Buffer.from(JSON.stringify({ state: odd, createdAt: 0 })).toString('base64url'), NEW_SECRET)}`;
  expect(takeError(() => tc.take(fakeRequest(forged), fakeResponse().res, odd)).code).toBe('ERR_STATE_MISMATCH');
});

test.each([
  ['unsigned', (tx: Transaction) => Buffer.from(JSON.stringify(tx)).toString('base64url')],
  ['signed with an unknown secret', (tx: Transaction) => sign(Buffer.from(JSON.stringify(tx)).toString('base64url'), 'x'.repeat(40))],
  ['signed garbage', () => sign('%%%not-base64%%%', NEW_SECRET)],
  ['signed JSON that is not an object', () => sign(Buffer.from('"text"').toString('base64url'), NEW_SECRET)],
  ['signed, naming another state', (tx: Transaction) => sign(Buffer.from(JSON.stringify({ ...tx, state: `${tx.state}x` })).toString('base64url'), NEW_SECRET)],
])('take: a cookie %s -> ERR_TRANSACTION_INVALID, and it is cleared', (_name, forge) => {
  const tx = transaction();
  const { res, setCookies } = fakeResponse();
  const err = takeError(() => cookies().take(fakeRequest(`__Host-auth_verification.${tx.state}=${forge(tx)}`), res, tx.state));
  expect(err.code).toBe('ERR_TRANSACTION_INVALID');
  expect(err.status).toBe(400);
  expect(setCookies().some((c) => c.startsWith(`__Host-auth_verification.${tx.state}=;`))).toBe(true);
});

test('take: a transaction older than its lifetime -> ERR_TRANSACTION_INVALID (expired)', () => {
  const tc = cookies();
  const tx = transaction({ createdAt: Math.floor(Date.now() / 1000) - TRANSACTION_TTL - 1 });
  const { pair } = saved(tc, tx);
  const err = takeError(() => tc.take(fakeRequest(pair), fakeResponse().res, tx.state));
  expect(err.code).toBe('ERR_TRANSACTION_INVALID');
  expect(err.message).toMatch(/expired/);
});

test(`save: beyond ${MAX_OPEN_TRANSACTIONS} logins in flight, the oldest cookies are cleared`, () => {
  const tc = cookies();
  const now = Math.floor(Date.now() / 1000);
  const open = Array.from({ length: 7 }, (_, i) => transaction({ createdAt: now - 100 + i }));
  // The browser sends them in no particular order.
  const header = [...open].reverse().map((tx) => saved(tc, tx).pair).join('; ');
  const { res, setCookies } = fakeResponse();
  tc.save(fakeRequest(header), res, transaction());
  const cleared = setCookies().filter((c) => c.includes('Max-Age=0')).map((c) => c.slice(0, c.indexOf('=')));
  expect(cleared).toEqual(open.slice(0, 3).map((tx) => `__Host-auth_verification.${tx.state}`));
});

test('save: login state too large for a cookie is refused as a configuration problem (getLoginState)', () => {
  const err = takeError(() => saved(cookies(), transaction({ appState: { returnTo: '/', blob: 'x'.repeat(5_000) } })));
  expect(err.code).toBe('ERR_CONFIG_INVALID');
  expect(err.status).toBe(500);
});

test(`save: a returnTo that does not fit in ${MAX_TRANSACTION_COOKIE_BYTES} bytes falls back to the app root`, () => {
  const long = `https://app.example.com/deep?${'q=1&'.repeat(400)}`;
  const { pair } = saved(cookies(), transaction({ appState: { returnTo: long } }));
  expect(pair.length).toBeLessThanOrEqual(MAX_TRANSACTION_COOKIE_BYTES);
  expect(decode(pair).appState.returnTo).toBe('https://app.example.com/');
  // A usual deep link is kept as it is.
  const usual = `https://app.example.com/orders/12345?tab=items&page=${'9'.repeat(200)}`;
  expect(decode(saved(cookies(), transaction({ appState: { returnTo: usual } })).pair).appState.returnTo).toBe(usual);
});

test(`save: the browser's transaction cookies stay within ${TRANSACTION_BUDGET_BYTES} bytes together`, () => {
  const tc = cookies();
  const now = Math.floor(Date.now() / 1000);
  const bulky = (i: number) => transaction({ createdAt: now - 100 + i, appState: { returnTo: `https://app.example.com/${'p'.repeat(450)}` } });
  const open = [bulky(0), bulky(1), bulky(2), bulky(3)];
  const pairs = open.map((tx) => saved(tc, tx).pair);
  const { res, setCookies } = fakeResponse();
  const next = bulky(4);
  tc.save(fakeRequest(pairs.join('; ')), res, next);
  const cleared = setCookies().filter((c) => c.includes('Max-Age=0')).map((c) => c.slice(0, c.indexOf('=')));
  const keptBytes = pairs.filter((p) => !cleared.includes(p.slice(0, p.indexOf('=')))).reduce((sum, p) => sum + p.length + 2, 0);
  const written = setCookies().find((c) => c.startsWith(`__Host-auth_verification.${next.state}=`))?.split(';')[0] ?? '';
  expect(cleared[0]).toBe(`__Host-auth_verification.${open[0]?.state}`);
  expect(keptBytes + written.length + 2).toBeLessThanOrEqual(TRANSACTION_BUDGET_BYTES);
});

test('prune: a browser over budget gets its oldest transaction cookies cleared; one under it is left alone', () => {
  const tc = cookies();
  const now = Math.floor(Date.now() / 1000);
  const pairs = Array.from({ length: 8 }, (_, i) => saved(tc, transaction({ createdAt: now - 100 + i, appState: { returnTo: `https://app.example.com/${'p'.repeat(450)}` } })).pair);
  const over = fakeResponse();
  tc.prune(fakeRequest(`other=1; ${pairs.join('; ')}`), over.res);
  const cleared = over.setCookies().map((c) => c.slice(0, c.indexOf('=')));
  expect(cleared.length).toBeGreaterThan(0);
  expect(cleared).toEqual(pairs.slice(0, cleared.length).map((p) => p.slice(0, p.indexOf('='))));
  const left = pairs.slice(cleared.length).reduce((sum, p) => sum + p.length + 2, 0);
  expect(left).toBeLessThanOrEqual(TRANSACTION_BUDGET_BYTES);
  const under = fakeResponse();
  tc.prune(fakeRequest(pairs.slice(0, 3).join('; ')), under.res);
  expect(under.setCookies()).toEqual([]);
});

test("save: a login fetched by another site's script is refused (403, nothing stored); a navigation, a same-site fetch or a browser without fetch metadata is not", () => {
  const tc = cookies();
  const request = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
  for (const mode of ['no-cors', 'cors']) {
    const refused = fakeResponse();
    const err = takeError(() => tc.save(request({ 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': mode }), refused.res, transaction()));
    expect([err.code, err.status, err.expose, err.message]).toEqual(['ERR_CROSS_SITE_REQUEST', 403, true, 'a login starts with a top-level navigation, not a cross-site fetch']);
    expect(refused.setCookies()).toEqual([]);
  }
  const allowed: Array<Record<string, string>> = [
    { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' },
    { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors' },
    { 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'no-cors' },
    // Sec-Fetch-Site without Sec-Fetch-Mode is not a browser's fetch metadata: nothing to judge by.
    { 'sec-fetch-site': 'cross-site' },
    {},
  ];
  for (const headers of allowed) {
    const { res, setCookies } = fakeResponse();
    tc.save(request(headers), res, transaction());
    expect([headers, setCookies().length]).toEqual([headers, 1]);
  }
});

function decode(pair: string): Transaction {
  const value = pair.slice(pair.indexOf('=') + 1);
  return JSON.parse(Buffer.from(value.slice(0, value.lastIndexOf('.')), 'base64url').toString('utf8')) as Transaction;
}

test('parseCookies: garbage pairs are skipped, quoted values unquoted, the first of a name wins', () => {
  const parsed = parseCookies(fakeRequest('a=1; ===; %%%; b="two"; a=3; =x; c=; d=4=4'));
  expect([...parsed]).toEqual([
    ['a', '1'],
    ['b', 'two'],
    ['c', ''],
    ['d', '4=4'],
  ]);
});

test('cookie tossing: on https without a cookie domain the names are __Host- prefixed; a configured name, a domain or http keep the plain name', () => {
  const name = (options: Partial<AuthOptions>) => {
    const tx = transaction();
    const { res, setCookies } = fakeResponse();
    cookies(options).save(fakeRequest(), res, tx);
    return (setCookies()[0] ?? '').slice(0, (setCookies()[0] ?? '').indexOf('=')).replace(tx.state, '<state>');
  };
  expect(name({})).toBe('__Host-auth_verification.<state>');
  expect(name({ transactionCookie: { name: 'login_tx' } })).toBe('login_tx.<state>');
  expect(name({ session: { cookie: { domain: 'example.com' } } })).toBe('auth_verification.<state>');
  expect(name({ baseURL: 'http://localhost:3000' })).toBe('auth_verification.<state>');
  const session = (options: Partial<AuthOptions>) => getConfig({ ...BASE, ...options }, {}).session.name;
  expect(session({})).toBe('__Host-appSession');
  expect(session({ session: { name: 'mySession' } })).toBe('mySession');
  expect(session({ session: { cookie: { domain: 'example.com' } } })).toBe('appSession');
  expect(session({ session: { cookie: { path: '/app' } } })).toBe('appSession');
  expect(session({ baseURL: 'http://localhost:3000' })).toBe('appSession');
});
