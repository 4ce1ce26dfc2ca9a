/**
 * `refreshDeadline` bounds one request's refresh work even when a single OP
 * call may take longer (`httpTimeout` above the deadline): the request is
 * answered at the deadline, with its current token when that has not expired,
 * else with 503 `ERR_REFRESH_TIMEOUT`; the refresh under way is not abandoned.
 * The OP hang is injected at the app's fetch (`op-faults.ts`); the OP is real.
 */
import type { Browser } from '../helpers/browser.js';
import { injectOpFaults, type OpFaults } from '../helpers/op-faults.js';
import { JSON_ACCEPT, signIn, sleepUntil, startRefreshSetup, stored, type RefreshSetup } from '../helpers/refresh-app.js';

const DEADLINE = 800;
const HTTP_TIMEOUT = 4_000;

let setup: RefreshSetup;
let faults: OpFaults;

beforeAll(async () => {
  setup = await startRefreshSetup({ accessTokenTTL: 4 }, { httpTimeout: HTTP_TIMEOUT, refreshDeadline: DEADLINE });
  faults = injectOpFaults(setup.op.issuer);
});
afterAll(async () => {
  faults?.restore();
  await setup?.close();
});

async function timed(browser: Browser): Promise<{ status: number; code: unknown; ms: number }> {
  const started = Date.now();
  const res = await browser.get(`${setup.app.url}/token`, JSON_ACCEPT);
  return { status: res.status, code: (JSON.parse(res.body) as { code?: unknown }).code, ms: Date.now() - started };
}

test('a hanging OP: a due token is served at the deadline, an expired one gets ERR_REFRESH_TIMEOUT at the deadline', async () => {
  const [due, expired] = [await signIn(setup), await signIn(setup)];
  const dueData = await stored(setup, due as Browser);
  const expiredData = await stored(setup, expired as Browser);
  faults.fault = 'hang';

  // Inside the leeway (the last 2 s) but not expired.
  await sleepUntil((dueData?.expires_at as number) - 2);
  const served = await timed(due as Browser);
  expect(served.status).toBe(200);
  expect(served.ms).toBeGreaterThanOrEqual(DEADLINE - 50);
  expect(served.ms).toBeLessThan(DEADLINE + 1_000);

  await sleepUntil(expiredData?.expires_at as number);
  const refused = await timed(expired as Browser);
  expect(refused).toEqual({ status: 503, code: 'ERR_REFRESH_TIMEOUT', ms: expect.any(Number) });
  expect(refused.ms).toBeLessThan(DEADLINE + 1_000);
  faults.fault = 'none';
}, 20_000);
