/**
 * No exposed (4xx) error message carries request data. Every route is sent hostile input
 * (parameter names and values full of markup, script and quotes, in the query, in form bodies
 * parsed by the app with `express.urlencoded({ extended: true })` or by the library, in JSON
 * bodies and in headers) and every exposed error it raises is checked: its message, and the
 * page the README's error handler renders from it, hold no byte of that input.
 */
import http from 'node:http';
import type { Express, NextFunction, Request, Response } from 'express';
import { Browser } from '../helpers/browser.js';
import { freePorts, clientsFor } from '../helpers/flow.js';
import { loadExpress, startApp, type TestApp } from '../helpers/app.js';
import { createTestOP, type TestOP } from '../helpers/op.js';
import { OidcError } from '../../src/index.js';

/** Every hostile value holds the marker `pwn`: a message that echoes any of it is caught. */
const VALUES = [
  `<svg/onload=alert('pwn1')>`,
  `pwn2"'><script>alert(2)</script>`,
  'pwn3', // a plain word: passes any "safe word" filter, so only a fixed message keeps it out
  'javascript:pwn4',
  'pwn5&lt;b&gt;&#x3c;',
];
const NAMES = ['<img src=x onerror=pwn6>', `pwn7"'><b>`, 'pwn8', 'pwn9.x-y'];
const MARKER = /pwn/i;

interface Seen {
  err: OidcError;
  body: string;
}

let op: TestOP;
let extended: TestApp;
let libraryParsed: TestApp;
let jsonFirst: TestApp;
let guarded: TestApp;
const seen: Seen[] = [];

/** The README's recommended error handler, recording what it was given and what it sent. */
function readmeErrorHandler(app: Express): void {
  app.use((err: OidcError, _req: Request, res: Response, _next: NextFunction) => {
    const body = err.expose ? err.message : 'Something went wrong';
    if (err instanceof OidcError) seen.push({ err, body });
    res.status(err.status ?? 500).type('text/plain').send(body);
  });
}

beforeAll(async () => {
  const ports = await freePorts(4);
  const bases = ports.map((p) => `http://127.0.0.1:${p}`);
  op = await createTestOP({ appBaseURL: bases[0], clients: clientsFor(bases) });
  const express = await loadExpress();
  const common = { passwordLogin: true, backchannelLogout: true } as const;
  extended = await startApp(op.issuer, ports[0] as number, { ...common, authorizationParams: { response_mode: 'form_post' } }, readmeErrorHandler, [
    express.urlencoded({ extended: true }),
  ]);
  libraryParsed = await startApp(op.issuer, ports[1] as number, common, readmeErrorHandler);
  jsonFirst = await startApp(op.issuer, ports[2] as number, common, readmeErrorHandler, [express.json()]);
  guarded = await startApp(op.issuer, ports[3] as number, { authRequired: true, errorOnRequiredAuth: true }, readmeErrorHandler);
});
afterAll(async () => {
  await Promise.all([extended?.close(), libraryParsed?.close(), jsonFirst?.close(), guarded?.close()]);
  await op?.stop();
});

interface RawResponse {
  status: number;
  body: string;
  location: string | undefined;
}

/** One request with any header and body (node's http client sends what it is given). */
function raw(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: init.method ?? 'GET', headers: init.headers ?? {} }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8'), location: res.headers.location }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

function query(pairs: Array<[string, string]>): string {
  return new URLSearchParams(pairs).toString();
}

/** Every (name, value) pair of hostile input. */
function pairs(): Array<[string, string]> {
  return NAMES.flatMap((name) => VALUES.map((value): [string, string] => [name, value]));
}

/** Starts a real login, so the callback has a transaction; returns its state and the cookie header. */
async function openLogin(app: TestApp): Promise<{ state: string; cookie: string }> {
  const browser = new Browser();
  const res = await browser.get(`${app.url}/login`, { follow: false });
  const state = new URL(res.headers.get('location') as string).searchParams.get('state') as string;
  return { state, cookie: browser.cookies.headerFor(new URL(app.url)) as string };
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

test('no exposed error message or error page holds a byte of hostile input', async () => {
  const responses: RawResponse[] = [];
  const send = async (url: string, init?: Parameters<typeof raw>[1]) => responses.push(await raw(url, init));

  for (const app of [extended, libraryParsed, jsonFirst]) {
    const issuer = op.issuer;
    for (const [name, value] of pairs()) {
      // Query: hostile names and values, with and without a login in progress.
      await send(`${app.url}/callback?${query([[name, value]])}`);
      await send(`${app.url}/callback?${query([['state', value]])}`);
      await send(`${app.url}/callback?${query([['state', value], ['state', name]])}`);
      // Form bodies: the app's extended parser turns `name[x]` into objects.
      await send(`${app.url}/callback`, { method: 'POST', headers: FORM, body: `${encodeURIComponent(name)}[a]=${encodeURIComponent(value)}` });
      await send(`${app.url}/callback`, { method: 'POST', headers: FORM, body: `state[${encodeURIComponent(name)}]=${encodeURIComponent(value)}` });
      await send(`${app.url}/callback`, { method: 'POST', headers: FORM, body: query([[name, value], ['state', value]]) });
      // JSON and other content types, with hostile parameters in the type itself.
      await send(`${app.url}/callback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ [name]: value, state: value }) });
      await send(`${app.url}/callback`, { method: 'POST', headers: { 'content-type': `text/html; charset="${value}"` }, body: value });
      // Headers: forged transaction cookies with hostile names and values.
      await send(`${app.url}/callback?${query([['state', value]])}`, { headers: { cookie: `auth_verification.${name}=${value}` } });
      await send(`${app.url}/callback?state=abcdefghijklmnopqrstuvwxyz012345`, { headers: { cookie: `auth_verification.abcdefghijklmnopqrstuvwxyz012345=${encodeURIComponent(value)}` } });
      // Password login: hostile credentials, origins and fetch metadata.
      await send(`${app.url}/login/password`, { method: 'POST', headers: FORM, body: query([['username', value], ['password', value], [name, value]]) });
      await send(`${app.url}/login/password`, { method: 'POST', headers: { ...FORM, origin: `http://${name}.example` }, body: query([['username', value]]) });
      await send(`${app.url}/login/password`, { method: 'POST', headers: { ...FORM, 'sec-fetch-site': value }, body: 'username=a&password=b' });
      await send(`${app.url}/login/password`, { method: 'POST', headers: FORM, body: query([['username', 'x'.repeat(600) + value], ['password', 'p']]) });
      // Back-channel logout answers the OP itself (JSON), with the same rule.
      await send(`${app.url}/backchannel-logout`, { method: 'POST', headers: FORM, body: query([['logout_token', value], [name, value]]) });
      await send(`${app.url}/backchannel-logout`, { method: 'POST', headers: FORM, body: query([['logout_token', `eyJhbGciOiJub25lIn0.${Buffer.from(JSON.stringify({ [name]: value })).toString('base64url')}.`]]) });
      // Login and logout never fail on a hostile returnTo: they fall back to the app's root.
      await send(`${app.url}/login?${query([['returnTo', value], [name, value]])}`);
      await send(`${app.url}/logout?${query([['returnTo', value], [name, value]])}`);
    }
    for (const value of VALUES) {
      // A login in progress: the OP's error, the issuer and the code are the attacker's.
      const login = await openLogin(app);
      await send(`${app.url}/callback?${query([['state', login.state], ['error', value], ['error_description', value]])}`, { headers: { cookie: login.cookie } });
      const again = await openLogin(app);
      await send(`${app.url}/callback?${query([['state', again.state], ['iss', value], ['code', value]])}`, { headers: { cookie: again.cookie } });
      const third = await openLogin(app);
      await send(`${app.url}/callback?${query([['state', third.state], ['iss', issuer], ['code', value]])}`, { headers: { cookie: third.cookie } });
      const fourth = await openLogin(app);
      await send(`${app.url}/callback`, { method: 'POST', headers: { ...FORM, cookie: fourth.cookie }, body: query([['state', fourth.state], ['code', value], ['code', value]]) });
      await send(`${app.url}/callback?${query([['state', 'x'.repeat(300) + value]])}`);
    }
  }
  await send(`${guarded.url}/profile?${query(pairs())}`, { headers: { accept: 'application/json', 'x-forwarded-host': VALUES[0] as string } });

  const exposed = seen.filter((s) => s.err.expose);
  // The walk reached the errors it is meant to check (the test would pass vacuously otherwise).
  const codes = new Set(exposed.map((s) => s.err.code));
  for (const code of [
    'ERR_CALLBACK_INVALID',
    'ERR_BAD_REQUEST',
    'ERR_TRANSACTION_MISSING',
    'ERR_STATE_MISMATCH',
    'ERR_TRANSACTION_INVALID',
    'ERR_OP_ERROR',
    'ERR_ISSUER_MISMATCH',
    'ERR_CROSS_SITE_REQUEST',
    'ERR_LOGIN_FAILED',
    'ERR_NOT_AUTHENTICATED',
  ]) {
    expect(codes).toContain(code);
  }
  expect(exposed.length).toBeGreaterThan(200);
  for (const { err, body } of exposed) {
    expect({ code: err.code, message: err.message }).not.toEqual(expect.objectContaining({ message: expect.stringMatching(MARKER) }));
    expect(err.message).not.toMatch(/[<>&]/);
    expect(body).not.toMatch(MARKER);
    if (err.parameter !== undefined) expect(err.parameter).toMatch(/^(?:[\w.[\]-]{1,64}|\(unprintable\))$/);
  }
  // And no page (the library's own JSON answers included) gives the input back. Redirects are
  // left out: a hostile `returnTo` path resolves to a URL on the app's own origin, by design.
  const pages = responses.filter((res) => res.location === undefined);
  expect(pages.length).toBeGreaterThan(200);
  for (const res of pages) expect(res.body).not.toMatch(MARKER);
});

test('the offending parameter is kept for the log, plain names only', () => {
  expect(new OidcError('ERR_BAD_REQUEST', 'x', { parameter: 'state' }).parameter).toBe('state');
  expect(new OidcError('ERR_BAD_REQUEST', 'x', { parameter: '<svg/onload=alert(1)>' }).parameter).toBe('(unprintable)');
  // Whatever a message says, an exposed one cannot form markup.
  expect(new OidcError('ERR_BAD_REQUEST', 'a <b>c</b> & d', { status: 400 }).message).toBe('a ?b?c?/b? ? d');
  expect(new OidcError('ERR_CONFIG_INVALID', 'a <b>', { status: 500 }).message).toBe('a <b>');
});
