/**
 * Bad input to /callback: garbage, oversized and repeated parameters, wrong content types,
 * oversized bodies, forged transaction cookies. Every one gets a 4xx through Express's error
 * handling; none crashes the process or ends in a 500.
 */
import http from 'node:http';
import { sign } from 'cookie-signature';
import { Browser } from '../helpers/browser.js';
import { APP_SECRET, freePort, loadExpress, startApp, type TestApp } from '../helpers/app.js';
import { authorizeUntilCallback, clientsFor, deliver, errorBody, whoAmI } from '../helpers/flow.js';
import { createTestOP, USERS, type TestOP } from '../helpers/op.js';
import { isOidcError } from '../../src/index.js';

let op: TestOP;
let app: TestApp;
let jsonFirst: TestApp;
let formFirst: TestApp;

beforeAll(async () => {
  const ports = [await freePort(), await freePort(), await freePort()] as const;
  const bases = ports.map((p) => `http://127.0.0.1:${p}`);
  op = await createTestOP({ appBaseURL: bases[0], clients: clientsFor(bases) });
  app = await startApp(op.issuer, ports[0]);
  const express = await loadExpress();
  // Apps that parse bodies before auth(): express.json() (which, on Express 4, leaves an empty
  // req.body on form posts) and express.urlencoded() (which consumes the body itself).
  jsonFirst = await startApp(op.issuer, ports[1], { authorizationParams: { response_mode: 'form_post' } }, undefined, [express.json()]);
  formFirst = await startApp(op.issuer, ports[2], { authorizationParams: { response_mode: 'form_post' } }, undefined, [
    express.urlencoded({ extended: false }),
  ]);
});
afterAll(async () => {
  await Promise.all([app?.close(), jsonFirst?.close(), formFirst?.close()]);
  await op?.stop();
});

const STATE = 'abcdefghijklmnopqrstuvwxyz012345';

interface RawResponse {
  status: number;
  body: string;
}

/** One request with full control of method, headers and body (chunked when `chunks` is given). */
function raw(path: string, init: { method?: string; headers?: Record<string, string>; body?: string | Buffer; chunks?: number; chunk?: Buffer } = {}) {
  return new Promise<RawResponse>((resolve, reject) => {
    const req = http.request(`${app.url}${path}`, { method: init.method ?? 'GET', headers: init.headers ?? {} }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8') }));
    });
    req.on('error', reject);
    if (init.chunks !== undefined && init.chunk !== undefined) {
      // Writes until the server answers (a server that stops reading must still answer).
      let sent = 0;
      const pump = () => {
        while (sent < init.chunks!) {
          sent += 1;
          if (!req.write(init.chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      req.on('response', () => {
        sent = init.chunks!;
      });
      pump();
    } else {
      req.end(init.body);
    }
  });
}

function codeOf(res: RawResponse): string | undefined {
  try {
    return (JSON.parse(res.body) as { code?: string }).code;
  } catch {
    return undefined;
  }
}

/** A 4xx from the library (OidcError through the app's error handler), and no error of another kind. */
function expectClientError(res: RawResponse, status?: number) {
  if (status !== undefined) expect(res.status).toBe(status);
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  expect(app.errors.every(isOidcError)).toBe(true);
}

describe('query parameters', () => {
  test.each([
    ['no parameters at all', ''],
    ['garbage bytes', '?state=%ff%fe%00%3Cscript%3E&code=%F0%9F%92%A5&iss=%00'],
    ['broken percent-encoding', '?state=%E0%A4%A&code=%&iss=%zz'],
    ['an oversized state', `?state=${'a'.repeat(300)}&code=x`],
    ['an oversized code', `?state=${STATE}&code=${'c'.repeat(5_000)}`],
    ['an oversized iss', `?state=${STATE}&code=x&iss=${'i'.repeat(3_000)}`],
    ['an oversized error_description', `?state=${STATE}&error=access_denied&error_description=${'d'.repeat(3_000)}`],
    ['a repeated state', `?state=${STATE}&state=${STATE}x&code=x`],
    ['a repeated code', `?state=${STATE}&code=a&code=b`],
    ['array-like parameters', `?state[]=${STATE}&code[a]=x`],
    ['a state with the right shape but no login', `?state=${STATE}&code=x`],
    ['thousands of parameters', `?state=${STATE}&${Array.from({ length: 3_000 }, (_, i) => `p${i}=${i}`).join('&')}`],
  ])('%s -> 4xx', async (_name, query) => {
    expectClientError(await raw(`/callback${query}`));
  });

  test('a URL larger than the server accepts -> 4xx from Node, before our code', async () => {
    expectClientError(await raw(`/callback?state=${'s'.repeat(20_000)}`));
  });

  test('an OP error with a garbage error code is not echoed', async () => {
    const browser = new Browser();
    const delivery = await authorizeUntilCallback(browser, `${app.url}/login`);
    delivery.url.search = new URLSearchParams({
      state: delivery.url.searchParams.get('state') ?? '',
      error: '<script>alert(1)</script>',
      error_description: 'bad\u0000thing\u202e',
    }).toString();
    const res = await deliver(browser, delivery);
    expect(res.status).toBe(400);
    const body = errorBody(res);
    expect(body?.code).toBe('ERR_OP_ERROR');
    expect(res.body).not.toContain('<script>');
  });
});

describe('POST bodies', () => {
  const form = `state=${STATE}&code=x`;

  test.each([
    ['application/json', 'application/json', '{"state":"x","code":"y"}'],
    ['text/plain', 'text/plain', form],
    ['multipart/form-data', 'multipart/form-data; boundary=x', `--x\r\nContent-Disposition: form-data; name="state"\r\n\r\n${STATE}\r\n--x--`],
    ['no content type', undefined, form],
  ])('content type %s -> 415', async (_name, type, body) => {
    const res = await raw('/callback', { method: 'POST', headers: type === undefined ? {} : { 'content-type': type }, body });
    expectClientError(res, 415);
    expect(codeOf(res)).toBe('ERR_BAD_REQUEST');
  });

  test('an oversized body with Content-Length -> 413', async () => {
    const body = `state=${STATE}&code=${'x'.repeat(200_000)}`;
    const res = await raw('/callback', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    expectClientError(res, 413);
  });

  test('an oversized chunked body -> 413, and the app keeps serving', async () => {
    const res = await raw('/callback', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      chunks: 200,
      chunk: Buffer.alloc(16_384, 'a'),
    });
    expectClientError(res, 413);
    expect((await raw('/')).status).toBe(200);
  });

  test('a body of invalid UTF-8 -> 4xx', async () => {
    const body = Buffer.from([0x73, 0x74, 0x61, 0x74, 0x65, 0x3d, 0xff, 0xfe, 0xc3, 0x28]);
    expectClientError(await raw('/callback', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body }));
  });

  test('a repeated state in the body -> 400', async () => {
    const res = await raw('/callback', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `state=${STATE}&state=${STATE}&code=x`,
    });
    expectClientError(res, 400);
  });
});

describe('transaction cookies', () => {
  const cookieName = `auth_verification.${STATE}`;
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const callbackWith = (cookie: string) => raw(`/callback?state=${STATE}&code=x`, { headers: { cookie: `${cookieName}=${cookie}` } });

  test.each([
    ['garbage', 'garbage'],
    ['empty', ''],
    ['signed with another secret', sign(encode({ state: STATE, createdAt: Date.now() / 1000 }), 'x'.repeat(40))],
    ['signed, but not JSON', sign(Buffer.from('not json').toString('base64url'), APP_SECRET)],
    ['signed, JSON null', sign(encode(null), APP_SECRET)],
    ['signed, for another state', sign(encode({ state: `${STATE}x`, nonce: 'n', codeVerifier: 'v', appState: {}, createdAt: Math.floor(Date.now() / 1000) }), APP_SECRET)],
  ])('%s -> 400', async (_name, cookie) => {
    const res = await callbackWith(cookie);
    expectClientError(res, 400);
  });

  test('a garbage Cookie header does not break any route', async () => {
    const cookie = 'appSession=s%3Agarbage.sig; ===; %%%; auth_verification.=x; appSession=';
    for (const path of ['/', '/profile', `/callback?state=${STATE}&code=x`, '/logout']) {
      const res = await raw(path, { headers: { cookie, accept: 'application/json' } });
      expect(res.status).toBeLessThan(500);
    }
    expect(app.errors.every(isOidcError)).toBe(true);
  });
});

describe('apps that parse bodies before auth()', () => {
  test.each([
    ['express.json()', () => jsonFirst],
    ['express.urlencoded()', () => formFirst],
  ])('a form_post callback still signs in after %s', async (_name, which) => {
    const target = which();
    const browser = new Browser();
    const res = await op.signIn(browser, `${target.url}/login?returnTo=/profile`);
    expect(res.url).toBe(`${target.url}/profile`);
    expect(JSON.parse(res.body).user.sub).toBe(USERS.alice.sub);
    expect((await whoAmI(browser, target.url)).authenticated).toBe(true);
  });
});
