/**
 * The edges of the transaction cookies, with the security limits pinned by value: a login may
 * take 600 s, five logins may be open per browser, a cookie may take 1024 bytes and a browser's
 * transaction cookies 4096 bytes together (each counted as `name=value; ` in the Cookie header),
 * a state is 16 to 128 URL-safe characters, on https the cookie names are `__Host-` prefixed.
 * Also the exact Set-Cookie attributes, and the parsing of a hostile Cookie header.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, jest, test } from '@jest/globals';
import { sign } from 'cookie-signature';

import { getConfig } from '../../src/config/index.js';
import type { AuthOptions } from '../../src/config/types.js';
import { addLogger } from '../../src/debug.js';
import { OidcError } from '../../src/errors.js';
import { TransactionCookies, type Transaction } from '../../src/transaction/index.js';
import { clearCookie, parseCookies, setCookie } from '../../src/transaction/cookies.js';

const SECRET = 'the-new-secret-that-is-at-least-32-characters';
const OTHER_SECRET = 'the-old-secret-that-is-at-least-32-characters';
const BASE: AuthOptions = { issuerBaseURL: 'https://op.example.com', baseURL: 'https://app.example.com', clientID: 'c', clientSecret: 's', secret: SECRET };
const NOW = 1_800_000_000;
/** The name prefix of transaction cookies on https (no cookie domain), and on http or with a domain. */
const HOST = '__Host-auth_verification.';
const PLAIN = 'auth_verification.';

/** The library's log lines (what a developer sees with a `logger`), taken since the last call. */
const logged: string[] = [];
addLogger({ debug: (line) => logged.push(line), info: (line) => logged.push(line), warn: (line) => logged.push(line), error: (line) => logged.push(line) });
const logLines = () => logged.splice(0);

const cookies = (options: Partial<AuthOptions> = {}) => new TransactionCookies(getConfig({ ...BASE, ...options }, {}));

function fakeResponse(initial?: string) {
  const headers = new Map<string, unknown>(initial === undefined ? [] : [['set-cookie', initial]]);
  const res = {
    getHeader: (name: string) => headers.get(name.toLowerCase()),
    setHeader: (name: string, value: unknown) => headers.set(name.toLowerCase(), value),
  };
  return { res: res as unknown as ServerResponse, setCookies: () => (headers.get('set-cookie') as string[] | undefined) ?? [] };
}

const fakeRequest = (cookie?: string) => ({ headers: cookie === undefined ? {} : { cookie } }) as IncomingMessage;

let counter = 0;
function transaction(overrides: Partial<Transaction> = {}): Transaction {
  counter += 1;
  const state = `state-${String(counter).padStart(4, '0')}-abcdefghijklmnop`;
  return { state, nonce: 'nonce', codeVerifier: 'verifier', appState: { returnTo: '/' }, createdAt: Math.floor(Date.now() / 1000), ...overrides };
}

function save(tc: TransactionCookies, tx: Transaction, header?: string, prefix = HOST) {
  const { res, setCookies } = fakeResponse();
  tc.save(fakeRequest(header), res, tx);
  const set = setCookies().find((c) => c.startsWith(`${prefix}${tx.state}=`));
  if (set === undefined) throw new Error(`no ${prefix}${tx.state} cookie set: ${setCookies().join(' | ')}`);
  return { pair: set.split(';')[0] ?? '', set, all: setCookies() };
}

/** Bytes a cookie takes in the Cookie header: `name=value; `. */
const bytesOf = (pair: string) => pair.length + 2;

function error(fn: () => unknown): OidcError {
  try {
    fn();
  } catch (err) {
    if (err instanceof OidcError) return err;
    throw err;
  }
  throw new Error('expected an OidcError');
}

const forged = (state: string, payload: unknown, secret = SECRET) => `${HOST}${state}=${sign(Buffer.from(JSON.stringify(payload)).toString('base64url'), secret)}`;

describe('a login may take 600 seconds', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  test('taken 600 s after it began it passes, 601 s after it is expired; the cookie lives 600 s', () => {
    jest.useFakeTimers({ now: NOW * 1000 + 999, doNotFake: ['nextTick', 'setImmediate', 'clearImmediate', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'queueMicrotask', 'hrtime', 'performance'] });
    const tc = cookies();
    const onTime = transaction({ createdAt: NOW - 600 });
    const { pair, set } = save(tc, onTime);
    expect(set).toContain('; Max-Age=600');
    expect(tc.take(fakeRequest(pair), fakeResponse().res, onTime.state).state).toBe(onTime.state);
    const late = transaction({ createdAt: NOW - 601 });
    const err = error(() => tc.take(fakeRequest(save(tc, late).pair), fakeResponse().res, late.state));
    expect([err.code, err.status, err.message]).toEqual(['ERR_TRANSACTION_INVALID', 400, 'login took too long (transaction expired)']);
  });
});

describe('five logins may be open per browser', () => {
  function openLogins(count: number): { header: string; open: Transaction[] } {
    const tc = cookies();
    const now = Math.floor(Date.now() / 1000);
    const open = Array.from({ length: count }, (_, i) => transaction({ createdAt: now - 100 + i }));
    return { header: open.map((tx) => save(tc, tx).pair).join('; '), open };
  }
  const cleared = (all: string[]) => all.filter((c) => c.includes('Max-Age=0')).map((c) => c.slice(0, c.indexOf('=')));

  test('with four open, a new login clears none; with five, it clears the oldest one', () => {
    const four = openLogins(4);
    expect(cleared(save(cookies(), transaction(), four.header).all)).toEqual([]);
    const five = openLogins(5);
    expect(cleared(save(cookies(), transaction(), five.header).all)).toEqual([`${HOST}${five.open[0]!.state}`]);
  });

  test('a cookie that does not verify counts as the oldest, and other cookies do not count', () => {
    const { header } = openLogins(4);
    const bad = `${HOST}${'b'.repeat(20)}=garbage`;
    const result = save(cookies(), transaction(), `${header}; ${bad}; appSession=x; other.${'c'.repeat(20)}=y`);
    expect(cleared(result.all)).toEqual([`${HOST}${'b'.repeat(20)}`]);
  });
});

/** A transaction whose cookie takes exactly `bytes` in the Cookie header (padded in appState.pad, or in returnTo). */
function ofBytes(bytes: number, overrides: Partial<Transaction> = {}, padReturnTo = false): Transaction | undefined {
  // A base64url value cannot have every length: a longer state shifts the sizes within reach.
  for (const extra of ['', 'x', 'xy']) {
    const tx = transaction({ appState: padReturnTo ? { returnTo: 'https://app.example.com/' } : { returnTo: 'https://app.example.com/', pad: '' }, ...overrides });
    tx.state += extra;
    const size = () => bytesOf(`${HOST}${tx.state}=${sign(Buffer.from(JSON.stringify(tx)).toString('base64url'), SECRET)}`);
    while (size() < bytes) {
      if (padReturnTo) tx.appState.returnTo += 'x';
      else tx.appState.pad += 'x';
    }
    if (size() === bytes) return tx;
  }
  return undefined;
}
describe('a transaction cookie may take 1024 bytes', () => {
  test('1024 is accepted, 1025 is refused as a configuration problem (getLoginState)', () => {
    const fits = ofBytes(1_024)!;
    expect(bytesOf(save(cookies(), fits).pair)).toBe(1_024);
    const over = ofBytes(1_025)!;
    logLines();
    const err = error(() => save(cookies(), over));
    expect([err.code, err.status, err.message]).toEqual(['ERR_CONFIG_INVALID', 500, 'the login state (getLoginState) does not fit in a transaction cookie (1024 bytes at most)']);
    // Its returnTo is the app root already: nothing to fall back to.
    expect(logLines()).toEqual([]);
  });

  test('a returnTo that makes it 1024 bytes is kept; one that makes it longer falls back to the app root', () => {
    const returnTo = (pair: string) => (JSON.parse(Buffer.from(pair.slice(pair.indexOf('=') + 1).split('.')[0]!, 'base64url').toString()) as Transaction).appState.returnTo;
    const fits = ofBytes(1_024, {}, true)!;
    logLines();
    expect(returnTo(save(cookies(), fits).pair)).toBe(fits.appState.returnTo);
    expect(logLines()).toEqual([]);
    const over = ofBytes(1_025, {}, true)!;
    expect(String(over.appState.returnTo)).toMatch(/^https:\/\/app\.example\.com\/x{500,}$/);
    expect(returnTo(save(cookies(), over).pair)).toBe('https://app.example.com/');
    expect(logLines()).toEqual(['express-oidc:transaction returnTo too long for a transaction cookie: the login returns to the app root']);
  });
});

describe("a browser's transaction cookies may take 4096 bytes together", () => {
  const now = () => Math.floor(Date.now() / 1000);
  /**
   * Transactions of 1024 bytes `full` times, then two more (the last one newest) that bring them to
   * exactly `total` bytes, oldest first.
   */
  function ofTotal(full: number, total: number): Transaction[] {
    for (let a = 400; a < 420; a += 1) {
      const sizes = [...Array<number>(full).fill(1_024), a, total - full * 1_024 - a];
      const txs = sizes.map((bytes, i) => ofBytes(bytes, { createdAt: now() - 100 + i }));
      if (txs.every((tx) => tx !== undefined)) return txs as Transaction[];
    }
    throw new Error(`no transactions of exactly ${total} bytes`);
  }
  const header = (txs: Transaction[]) => txs.map((tx) => save(cookies(), tx).pair).join('; ');
  const cleared = (all: string[]) => all.filter((c) => c.includes('Max-Age=0')).map((c) => c.slice(0, c.indexOf('=')));
  const pruned = (cookieHeader: string) => {
    const { res, setCookies } = fakeResponse();
    cookies().prune(fakeRequest(cookieHeader), res);
    return cleared(setCookies());
  };

  test('save: a login that brings them to exactly 4096 clears none; to 4097 it clears the oldest', () => {
    for (const [total, clears] of [[4_096, 0], [4_097, 1]] as const) {
      const txs = ofTotal(3, total);
      const newest = txs.pop()!;
      expect(txs.length + 1).toBe(5); // within the count limit: only the bytes decide
      expect(cleared(save(cookies(), newest, header(txs)).all)).toEqual(txs.slice(0, clears).map((tx) => HOST + tx.state));
    }
  });

  test('prune: a Cookie header of 4096 characters is left alone, one of 4097 loses its oldest cookie', () => {
    // Transaction cookies alone: the header is their bytes less the last "; ".
    const at = ofTotal(3, 4_098);
    expect(header(at).length).toBe(4_096);
    expect(pruned(header(at))).toEqual([]);
    const over = ofTotal(3, 4_099);
    expect(header(over).length).toBe(4_097);
    expect(pruned(header(over))).toEqual([HOST + over[0]!.state]);
  });

  test('prune: transaction cookies of 4096 bytes in a longer header are left alone; of 4097, the oldest is cleared', () => {
    const other = `other=${'o'.repeat(300)}`;
    expect(pruned(`${other}; ${header(ofTotal(3, 4_096))}`)).toEqual([]);
    const over = ofTotal(3, 4_097);
    expect(pruned(`${other}; ${header(over)}`)).toEqual([HOST + over[0]!.state]);
  });

  test('prune: the oldest are cleared until they fit, and not one more', () => {
    // 400 + 4 * 1024 bytes: without the oldest, exactly 4096.
    const txs = [400, 1_024, 1_024, 1_024, 1_024].map((bytes, i) => ofBytes(bytes, { createdAt: now() - 100 + i })!);
    const cookieHeader = [...txs].reverse().map((tx) => save(cookies(), tx).pair).join('; ');
    logLines();
    expect(pruned(cookieHeader)).toEqual([HOST + txs[0]!.state]);
    expect(logLines()).toEqual(['express-oidc:transaction transaction cookies over budget: clearing the oldest']);
    expect(pruned(`x=${'y'.repeat(300)}; ${header(ofTotal(3, 4_096))}`)).toEqual([]);
    expect(logLines()).toEqual([]);
  });
});

describe('a state is 16 to 128 URL-safe characters', () => {
  const tc = cookies();
  test.each([16, 128])('%i characters: looked up', (length) => {
    const tx = transaction({ state: 'a-_'.repeat(60).slice(0, length) });
    expect(tc.take(fakeRequest(save(tc, tx).pair), fakeResponse().res, tx.state).state).toBe(tx.state);
  });

  test.each([
    ['15 characters', 'a'.repeat(15)],
    ['129 characters', 'a'.repeat(129)],
    ['a character outside [A-Za-z0-9_-] first', `!${'a'.repeat(20)}`],
    ['a character outside [A-Za-z0-9_-] last', `${'a'.repeat(20)}!`],
  ])('%s: never looked up, even with a valid cookie of that name', (_name, state) => {
    const cookie = forged(state, { ...transaction(), state });
    const err = error(() => tc.take(fakeRequest(cookie), fakeResponse().res, state));
    expect([err.code, err.status, err.message]).toEqual(['ERR_STATE_MISMATCH', 400, 'state does not match any login in progress']);
  });

  test('with no transaction cookie at all (other cookies only) it is a missing transaction', () => {
    const err = error(() => tc.take(fakeRequest(`appSession=x; auth_verificationX=1; ${PLAIN}${'a'.repeat(20)}=1`), fakeResponse().res, 'a'.repeat(20)));
    expect([err.code, err.status, err.message]).toEqual(['ERR_TRANSACTION_MISSING', 400, 'no login in progress (transaction cookie missing)']);
  });
});

describe('what a cookie must hold', () => {
  const tc = cookies();
  test.each([
    ['JSON null', null],
    ['a state that is not a string', { state: 42, createdAt: NOW }],
  ])('%s is invalid', (_name, payload) => {
    const state = 'd'.repeat(20);
    const err = error(() => tc.take(fakeRequest(forged(state, payload)), fakeResponse().res, state));
    expect([err.code, err.message]).toEqual(['ERR_TRANSACTION_INVALID', 'transaction cookie is invalid']);
  });

  test('a cookie signed with the second secret of a rotation verifies', () => {
    const tx = transaction();
    const rotated = cookies({ secret: [SECRET, OTHER_SECRET] });
    expect(rotated.take(fakeRequest(forged(tx.state, tx, OTHER_SECRET)), fakeResponse().res, tx.state).state).toBe(tx.state);
  });
});

describe('clearing', () => {
  test('a form_post login clears both its cookies (SameSite=None and Lax); another login one', () => {
    const tc = cookies();
    const post = transaction({ responseMode: 'form_post' });
    const { res, setCookies } = fakeResponse();
    tc.take(fakeRequest(save(tc, post).pair), res, post.state);
    const clears = setCookies().filter((c) => c.startsWith(`${HOST}${post.state}=;`));
    expect(clears.map((c) => /SameSite=(\w+)/.exec(c)?.[1])).toEqual(['Lax', 'None']);

    const plain = transaction();
    const other = fakeResponse();
    tc.take(fakeRequest(save(tc, plain).pair), other.res, plain.state);
    expect(other.setCookies().filter((c) => c.startsWith(`${HOST}${plain.state}=;`))).toHaveLength(1);
  });

  test('on http a form_post cookie keeps SameSite=Lax (None needs Secure); the domain is the session cookie domain', () => {
    expect(save(cookies({ baseURL: 'http://localhost:3000' }), transaction({ responseMode: 'form_post' }), undefined, PLAIN).set).toContain('; SameSite=Lax');
    const set = save(cookies({ session: { cookie: { domain: 'example.com' } } }), transaction(), undefined, PLAIN).set;
    expect(set).toContain('; Domain=example.com');
    expect(save(cookies(), transaction()).set).not.toContain('Domain');
  });
});

describe('setCookie and parseCookies', () => {
  test('exact attributes; Expires only when clearing; whole seconds', () => {
    const { res, setCookies } = fakeResponse();
    setCookie(res, 'a', 'v', { maxAge: 1.9 });
    clearCookie(res, 'b', { path: '/x', domain: 'example.com', secure: true, sameSite: 'Strict' });
    setCookie(res, 'c', 'w', {});
    expect(setCookies()).toEqual([
      'a=v; Path=/; HttpOnly; Max-Age=1',
      'b=; Path=/x; HttpOnly; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Domain=example.com; Secure; SameSite=Strict',
      'c=w; Path=/; HttpOnly',
    ]);
  });

  test('a Set-Cookie header already set as a string is kept', () => {
    const { res, setCookies } = fakeResponse('first=1');
    setCookie(res, 'second', '2', {});
    expect(setCookies()).toEqual(['first=1', 'second=2; Path=/; HttpOnly']);
  });

  test('no header, names with spaces, a lone quote, pairs without =', () => {
    expect(parseCookies(fakeRequest()).size).toBe(0);
    expect(parseCookies(fakeRequest('')).size).toBe(0);
    expect([...parseCookies(fakeRequest(' a = 1 ;b="x;c=" ; noeq ; d="y"; e=y"'))]).toEqual([
      ['a', '1'],
      ['b', '"x'],
      ['c', ''], // one quote both opens and closes
      ['d', 'y'],
      ['e', 'y"'], // unquoted only when quoted at both ends
    ]);
  });
});
