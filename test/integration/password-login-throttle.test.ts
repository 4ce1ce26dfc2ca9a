/**
 * The password login route's throttle hook and its trust proxy warning, against the real OP: the
 * hook sees each attempt (per IP and per username) before the OP does, and `false` stops it with
 * 429; `trust proxy: true` with passwordLogin on prints one warning, at the first request.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, jest, test } from '@jest/globals';

import type { LoginAttempt } from '../../src/index.js';
import { Browser } from '../helpers/browser.js';
import { freePort, startApp, type TestApp } from '../helpers/app.js';
import { errorBody, freePorts } from '../helpers/flow.js';
import { USERS, createTestOP, type TestOP } from '../helpers/op.js';

const ROUTE = '/login/password';

let op: TestOP;
let app: TestApp;
const attempts: LoginAttempt[] = [];
/** A small fixed-window limiter, the way an app would write one: 3 attempts per IP and per username. */
const counts = new Map<string, number>();
const LIMIT = 3;

beforeAll(async () => {
  const port = await freePort();
  op = await createTestOP({ appBaseURL: `http://127.0.0.1:${port}` });
  app = await startApp(op.issuer, port, {
    passwordLogin: {
      throttle: async (attempt) => {
        attempts.push(attempt);
        const keys = [`ip:${attempt.ip}`, `user:${attempt.username.toLowerCase()}`];
        for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
        return keys.every((key) => (counts.get(key) ?? 0) <= LIMIT);
      },
    },
  });
});
afterAll(async () => {
  await app?.close();
  await op?.stop();
});
beforeEach(() => {
  op.resetCounts();
  attempts.length = 0;
  counts.clear();
  app.app.set('trust proxy', false);
});

const post = (form: Record<string, string>, headers: Record<string, string> = {}) =>
  new Browser().post(`${app.url}${ROUTE}`, form, { follow: false, headers });

describe('passwordLogin.throttle', () => {
  test('sees every attempt with the IP and username, before the OP is asked', async () => {
    const res = await post({ username: USERS.alice.username, password: USERS.alice.password });
    expect(res.status).toBe(303);
    expect(attempts).toEqual([{ ip: '127.0.0.1', username: USERS.alice.username, step: 'password' }]);
    expect(op.tokenRequests).toHaveLength(1);
  });

  test('false refuses the attempt with 429 ERR_LOGIN_THROTTLED and the OP is never asked', async () => {
    for (let i = 0; i < LIMIT; i += 1) {
      expect((await post({ username: USERS.alice.username, password: 'wrong-password' })).status).toBe(401);
    }
    const refused = await post({ username: USERS.alice.username, password: USERS.alice.password });
    expect({ status: refused.status, code: errorBody(refused)?.code }).toEqual({ status: 429, code: 'ERR_LOGIN_THROTTLED' });
    expect(op.tokenRequests).toHaveLength(LIMIT);
  });

  test('counts per username across IPs (trust proxy set to the real hop count)', async () => {
    app.app.set('trust proxy', 1);
    for (let i = 0; i < LIMIT; i += 1) {
      await post({ username: USERS.alice.username, password: 'wrong-password' }, { 'x-forwarded-for': `203.0.113.${i + 1}` });
    }
    const refused = await post({ username: USERS.alice.username, password: USERS.alice.password }, { 'x-forwarded-for': '203.0.113.99' });
    expect(refused.status).toBe(429);
    expect(attempts.map((a) => a.ip)).toEqual(['203.0.113.1', '203.0.113.2', '203.0.113.3', '203.0.113.99']);
    // Another user from a fresh IP is not affected.
    expect((await post({ username: USERS.bob.username, password: 'wrong-password' }, { 'x-forwarded-for': '198.51.100.7' })).status).toBe(401);
  });

  test('a hook that answers something other than true or false is a 500, and the OP is not asked', async () => {
    const port = await freePort();
    const broken = await startApp(op.issuer, port, { passwordLogin: { throttle: (() => 'yes') as never } });
    try {
      const res = await new Browser().post(`${broken.url}${ROUTE}`, { username: USERS.alice.username, password: USERS.alice.password }, { follow: false });
      expect({ status: res.status, code: errorBody(res)?.code }).toEqual({ status: 500, code: 'ERR_CONFIG_INVALID' });
      expect(op.tokenRequests).toHaveLength(0);
    } finally {
      await broken.close();
    }
  });

  test('a throttle that is not a function fails at auth() time', async () => {
    const port = await freePort();
    await expect(startApp(op.issuer, port, { passwordLogin: { throttle: 5 } as never })).rejects.toThrow(/passwordLogin/);
  });
});

describe("trust proxy: true with passwordLogin", () => {
  test('warns once, at the first request, naming the hop count fix', async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
    const port = await freePort();
    const permissive = await startApp(op.issuer, port, { passwordLogin: true }, (express) => express.set('trust proxy', true));
    try {
      expect(warn).not.toHaveBeenCalled();
      await new Browser().get(`${permissive.url}/`);
      await new Browser().get(`${permissive.url}/`);
      const ours = warn.mock.calls.filter(([message]) => String(message).includes('trust proxy'));
      expect(ours).toHaveLength(1);
      expect(String(ours[0]?.[0])).toMatch(/auth0-forwarded-for.*app\.set\('trust proxy', 1\)/s);
    } finally {
      warn.mockRestore();
      await permissive.close();
    }
  });

  test('no warning with a hop count, or without passwordLogin', async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
    const [p1 = 0, p2 = 0] = await freePorts(2);
    const counted = await startApp(op.issuer, p1, { passwordLogin: true }, (express) => express.set('trust proxy', 1));
    const noPassword = await startApp(op.issuer, p2, {}, (express) => express.set('trust proxy', true));
    try {
      await new Browser().get(`${counted.url}/`);
      await new Browser().get(`${noPassword.url}/`);
      expect(warn.mock.calls.filter(([message]) => String(message).includes('trust proxy'))).toHaveLength(0);
    } finally {
      warn.mockRestore();
      await counted.close();
      await noPassword.close();
    }
  });
});
