/**
 * The ClientCredentials cache against a real OP: one request per audience and organization,
 * failures shared and then forgotten, aborts that stop one caller only, a bounded cache.
 */
import { afterAll, beforeAll, beforeEach, expect, test } from '@jest/globals';
import { decodeJwt } from 'jose';

import { AuthClient, ClientCredentials, OidcError } from '../../src/index.js';
import { TEST_CLIENT_ID, TEST_CLIENT_SECRET, createTestOP, type TestOP } from '../helpers/op.js';

const AUDIENCE = 'https://api.example.com';

let op: TestOP;
let client: AuthClient;

beforeAll(async () => {
  op = await createTestOP();
  client = new AuthClient({ issuerBaseURL: op.issuer, clientID: TEST_CLIENT_ID, clientSecret: TEST_CLIENT_SECRET });
  await client.serverMetadata();
});
afterAll(async () => {
  await op?.stop();
});
beforeEach(() => op.resetCounts());

const requests = () => op.counts.token.client_credentials ?? 0;

async function rejection(promise: Promise<unknown>): Promise<OidcError> {
  const outcome = await promise.then(
    () => new Error('expected a rejection'),
    (err: unknown) => err,
  );
  if (!(outcome instanceof OidcError)) throw outcome;
  return outcome;
}

test('caches per audience and organization', async () => {
  const m2m = new ClientCredentials(client);
  const first = await m2m.get({ audience: AUDIENCE });
  const again = await m2m.get({ audience: AUDIENCE });
  expect(again.accessToken).toBe(first.accessToken);
  expect(again.expiresIn).toBeLessThanOrEqual(first.expiresIn as number);
  expect(requests()).toBe(1);

  const inOrg = await m2m.get({ audience: AUDIENCE, organization: 'org_acme' });
  expect(inOrg.accessToken).not.toBe(first.accessToken);
  expect(decodeJwt(inOrg.accessToken).org_id).toBe('org_acme');
  const otherApi = await m2m.get({ audience: 'https://other.example.com' });
  expect(decodeJwt(otherApi.accessToken).aud).toBe('https://other.example.com');
  expect(requests()).toBe(3);

  await m2m.get({ audience: AUDIENCE, organization: 'org_acme' });
  expect(requests()).toBe(3);

  m2m.clear();
  await m2m.get({ audience: AUDIENCE });
  expect(requests()).toBe(4);
});

test('concurrent callers share one request, also when it fails; a failure is not cached', async () => {
  const m2m = new ClientCredentials(client);
  const audience = 'not an absolute uri';
  const failures = await Promise.all(Array.from({ length: 20 }, () => rejection(m2m.get({ audience }))));
  expect(new Set(failures.map((e) => e.error))).toEqual(new Set(['invalid_target']));
  expect(requests()).toBe(1);

  await rejection(m2m.get({ audience }));
  expect(requests()).toBe(2);

  const tokens = await Promise.all(Array.from({ length: 20 }, () => m2m.get({ audience: AUDIENCE })));
  expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
  expect(requests()).toBe(3);
});

test('an OP outage is not cached either: the next call after it is back succeeds', async () => {
  const m2m = new ClientCredentials(client);
  await op.stop();
  try {
    expect((await rejection(m2m.get({ audience: AUDIENCE }))).code).toBe('ERR_OP_UNREACHABLE');
  } finally {
    await op.start();
  }
  const tokens = await m2m.get({ audience: AUDIENCE });
  expect(decodeJwt(tokens.accessToken).aud).toBe(AUDIENCE);
});

test('an abort stops one caller; the others get the shared token', async () => {
  const m2m = new ClientCredentials(client);
  const controller = new AbortController();
  const aborted = m2m.get({ audience: AUDIENCE }, { signal: controller.signal });
  const other = m2m.get({ audience: AUDIENCE });
  controller.abort();
  expect((await rejection(aborted)).code).toBe('ERR_ABORTED');
  expect(typeof (await other).accessToken).toBe('string');
  expect(requests()).toBe(1);
  expect((await rejection(m2m.get({ audience: AUDIENCE }, { signal: AbortSignal.abort() }))).code).toBe('ERR_ABORTED');
});

test('the cache is bounded', async () => {
  const m2m = new ClientCredentials(client, { maxEntries: 2 });
  await m2m.get({ audience: 'https://a.example.com' });
  await m2m.get({ audience: 'https://b.example.com' });
  await m2m.get({ audience: 'https://c.example.com' });
  expect(requests()).toBe(3);
  await m2m.get({ audience: 'https://c.example.com' });
  expect(requests()).toBe(3);
  await m2m.get({ audience: 'https://a.example.com' }); // the oldest went
  expect(requests()).toBe(4);
});

test('bad input and bad options are refused', async () => {
  const m2m = new ClientCredentials(client);
  expect((await rejection(m2m.get({ audience: '' }))).code).toBe('ERR_BAD_REQUEST');
  expect((await rejection(m2m.get({ audience: AUDIENCE, organization: '' }))).code).toBe('ERR_BAD_REQUEST');
  expect((await rejection(m2m.get(undefined as never))).code).toBe('ERR_BAD_REQUEST');
  expect(requests()).toBe(0);
  expect(() => new ClientCredentials(client, { leeway: -1 })).toThrow(/leeway/);
  expect(() => new ClientCredentials(client, { maxEntries: 0 })).toThrow(/maxEntries/);
});
