/**
 * The token exchange guide (docs/token-exchange.md) against the demo as a newcomer runs it
 * (`node example/demo.js`, embedded OP): sign in at the OP's login page, then the demo's
 * /exchange (custom token exchange with an actor) and /connection (Token Vault) routes. HTTP-level,
 * no browser needed.
 */
import { freePort } from '../helpers/app.js';
import { Browser, parseFirstForm, type BrowserResponse } from '../helpers/browser.js';
import { startDemo, type DemoProcess } from './demo-process.js';

const DEMO_USER = { username: 'demo@example.com', password: 'demo-password' };

let demo: DemoProcess | undefined;
beforeAll(async () => {
  demo = await startDemo({ port: await freePort(), opPort: await freePort(), accessTokenTTL: 30 });
});
afterAll(async () => {
  await demo?.stop();
});

async function signIn(browser: Browser, d: DemoProcess): Promise<BrowserResponse> {
  let res = await browser.get(`${d.appURL}/login`);
  for (let i = 0; i < 6; i += 1) {
    const form = new URL(res.url).origin === d.opURL ? parseFirstForm(res.body, res.url) : undefined;
    if (form && /\/interaction\/[^/]+\/login$/.test(new URL(form.action).pathname)) {
      res = await browser.post(form.action, DEMO_USER);
    } else if (form) {
      res = await browser.submitForm(res);
    } else {
      return res;
    }
  }
  throw new Error(`sign-in did not finish: ${res.status} ${res.url}`);
}

test('the demo exchanges the access token with the ID token as actor, and gets a Token Vault token', async () => {
  const d = demo as DemoProcess;
  const browser = new Browser();
  const landed = await signIn(browser, d);
  expect(new URL(landed.url).origin).toBe(d.appURL);

  const exchange = await browser.get(`${d.appURL}/exchange`);
  expect(exchange.status).toBe(200);
  const exchanged = JSON.parse(exchange.body) as { issuedTokenType: string; act: { sub: string }; claims: Record<string, unknown> };
  expect(exchanged.issuedTokenType).toBe('urn:ietf:params:oauth:token-type:access_token');
  expect(exchanged.act).toEqual({ sub: 'demo-user-1' });
  expect(exchanged.claims).toMatchObject({ sub: 'demo-user-1', aud: `${d.appURL}/api` });

  const connection = await browser.get(`${d.appURL}/connection`);
  expect(connection.status).toBe(200);
  const token = JSON.parse(connection.body) as { connection: string; scope: string; expiresAt: number };
  expect(token).toMatchObject({ connection: 'demo-calendar', scope: 'calendar.read' });
  expect(token.expiresAt).toBeGreaterThan(Date.now() / 1000);
});
