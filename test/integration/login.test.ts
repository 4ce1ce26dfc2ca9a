import { Browser } from '../helpers/browser.js';
import { createTestOP, USERS, type TestOP } from '../helpers/op.js';
import { freePort, startApp, type TestApp } from '../helpers/app.js';

let op: TestOP;
let app: TestApp;

beforeAll(async () => {
  const port = await freePort();
  op = await createTestOP({ appBaseURL: `http://127.0.0.1:${port}` });
  app = await startApp(op.issuer, port);
});
afterAll(async () => {
  await app?.close();
  await op?.stop();
});

test('login -> protected page -> logout', async () => {
  const browser = new Browser();
  const landed = await op.signIn(browser, `${app.url}/login?returnTo=/profile`);
  expect(landed.status).toBe(200);
  expect(landed.url).toBe(`${app.url}/profile`);
  expect(JSON.parse(landed.body).user.sub).toBe(USERS.alice.sub);

  const out = await browser.get(`${app.url}/logout`);
  expect(out.url).toBe(`${app.url}/`);
  expect(JSON.parse(out.body).authenticated).toBe(false);
});
