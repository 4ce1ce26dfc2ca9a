/**
 * The edges of the transaction cookies, with the security limits pinned by value: a login may
 * take 600 s, five logins may be open per browser, a cookie value may be 3500 characters, a state
 * is 16 to 128 URL-safe characters. Also the exact Set-Cookie attributes, and the parsing of a
 * hostile Cookie header.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, jest, test } from '@jest/globals';
import { sign } from 'cookie-signature';

import { getConfig } from '../../src/config/index.js';
import type { AuthOptions } from '../../src/config/types.js';
import { OidcError } from '../../src/errors.js';
import { TransactionCookies, type Transaction } from '../../src/transaction/index.js';
import { clearCookie, parseCookies, setCookie } from '../../src/transaction/cookies.js';

const SECRET = 'the-new-secret-that-is-at-least-32-characters';
const OTHER_SECRET = 'the-old-secret-that-is-at-least-32-characters';
const BASE: AuthOptions = { issuerBaseURL: 'https://op.example.com', baseURL: 'https://app.example.com', clientID: 'c', clientSecret: 's', secret: SECRET };
const NOW = 1_800_000_000;

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

function save(tc: TransactionCookies, tx: Transaction, header?: string) {
  const { res, setCookies } = fakeResponse();
  tc.save(fakeRequest(header), res, tx);
  const set = setCookies().find((c) => c.startsWith(`auth_verification.${tx.state}=`)) ?? '';
  return { pair: set.split(';')[0] ?? '', set, all: setCookies() };
}

function error(fn: () => unknown): OidcError {
  try {
    fn();
  } catch (err) {
    if (err instanceof OidcError) return err;
    throw err;
  }
  throw new Error('expected an OidcError');
}

const forged = (state: string, payload: unknown, secret = SECRET) => `auth_verification.${state}=${sign(Buffer.from(JSON.stringify(payload)).toString('base64url'), secret)}`;

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
    expect(cleared(save(cookies(), transaction(), five.header).all)).toEqual([`auth_verification.${five.open[0]!.state}`]);
  });

  test('a cookie that does not verify counts as the oldest, and other cookies do not count', () => {
    const { header } = openLogins(4);
    const bad = `auth_verification.${'b'.repeat(20)}=garbage`;
    const result = save(cookies(), transaction(), `${header}; ${bad}; appSession=x; other.${'c'.repeat(20)}=y`);
    expect(cleared(result.all)).toEqual([`auth_verification.${'b'.repeat(20)}`]);
  });
});

describe('a transaction cookie value may be 3500 characters', () => {
  /** A transaction whose signed cookie value is exactly `length` characters long. */
  function ofSize(length: number): Transaction {
    const tx = transaction({ appState: { returnTo: '/', pad: '' } });
    const size = () => sign(Buffer.from(JSON.stringify(tx)).toString('base64url'), SECRET).length;
    while (size() < length) tx.appState.pad += 'x';
    if (size() !== length) throw new Error(`no transaction has a cookie of exactly ${length} characters`);
    return tx;
  }

  test('3500 is accepted, 3502 (the next possible size) is refused', () => {
    expect(save(cookies(), ofSize(3_500)).set).not.toBe('');
    const err = error(() => save(cookies(), ofSize(3_502)));
    expect([err.code, err.status, err.message]).toEqual(['ERR_BAD_REQUEST', 400, 'login state too large to carry through the login']);
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
    const err = error(() => tc.take(fakeRequest('appSession=x; auth_verificationX=1'), fakeResponse().res, 'a'.repeat(20)));
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
    const clears = setCookies().filter((c) => c.startsWith(`auth_verification.${post.state}=;`));
    expect(clears.map((c) => /SameSite=(\w+)/.exec(c)?.[1])).toEqual(['Lax', 'None']);

    const plain = transaction();
    const other = fakeResponse();
    tc.take(fakeRequest(save(tc, plain).pair), other.res, plain.state);
    expect(other.setCookies().filter((c) => c.startsWith(`auth_verification.${plain.state}=;`))).toHaveLength(1);
  });

  test('on http a form_post cookie keeps SameSite=Lax (None needs Secure); the domain is the session cookie domain', () => {
    expect(save(cookies({ baseURL: 'http://localhost:3000' }), transaction({ responseMode: 'form_post' })).set).toContain('; SameSite=Lax');
    const set = save(cookies({ session: { cookie: { domain: 'example.com' } } }), transaction()).set;
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
