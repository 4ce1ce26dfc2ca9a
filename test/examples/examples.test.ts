/**
 * Each example of example/ runs the way docs/examples.md says (`node
 * example/<name>.js`, against the embedded OP), is signed in through the OP's
 * login page, and answers what it shows. Needs dist/ (npm test builds first).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Browser, parseFirstForm, type BrowserResponse } from '../helpers/browser.js';
import { freePort } from '../helpers/app.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const READY_TIMEOUT_MS = 20_000;
/** The embedded OP's user (example/provider.js, DEMO_USER). */
const USER = { sub: 'demo-user-1', username: 'demo@example.com', password: 'demo-password', name: 'Dana Demo' };

interface Example {
  url: string;
  port: number;
  output(): string;
  stop(): Promise<number | null>;
}

async function startExample(name: string, env: Record<string, string> = {}): Promise<Example> {
  const port = await freePort();
  const clean: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), OP_PORT: String(await freePort()), ...env };
  delete clean.NODE_OPTIONS;
  delete clean.DEBUG;
  const child = spawn(process.execPath, [`example/${name}.js`], { cwd: ROOT, env: clean, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://localhost:${port}`;
  const ready = await Promise.race([
    new Promise<boolean>((resolve) => child.stdout.on('data', () => out.includes(`Open ${url}`) && resolve(true))),
    exited.then(() => false),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), READY_TIMEOUT_MS).unref()),
  ]);
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 8_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  if (!ready) {
    await stop();
    throw new Error(`example/${name}.js did not start:\n${out}`);
  }
  return { url, port, output: () => out, stop };
}

/** Opens `url`; on the embedded OP's login page, signs in as its user; returns where it lands. */
async function signIn(browser: Browser, url: string): Promise<BrowserResponse> {
  const page = await browser.get(url);
  const form = parseFirstForm(page.body, page.url);
  if (!form || !/\/interaction\/[^/]+\/login$/.test(new URL(form.action).pathname)) {
    throw new Error(`expected the OP's login page, got ${page.status} ${page.url}`);
  }
  return browser.post(form.action, { username: USER.username, password: USER.password });
}

const json = (res: BrowserResponse) => JSON.parse(res.body) as Record<string, unknown>;

let running: Example | undefined;
afterEach(async () => {
  if (running) expect(await running.stop()).toBe(0);
  running = undefined;
});

beforeAll(() => {
  if (!existsSync(new URL('../../dist/index.js', import.meta.url))) throw new Error('dist/ is missing: run npm run build first (npm test does)');
});

test('protect-routes: public, signed-in and claim-checked routes', async () => {
  running = await startExample('protect-routes');
  const browser = new Browser();
  expect(json(await browser.get(`${running.url}/`))).toMatchObject({ signedIn: false });
  expect((await browser.get(`${running.url}/profile`, { follow: false })).status).toBe(302);
  const landed = await signIn(browser, `${running.url}/profile`);
  expect(landed.url).toBe(`${running.url}/profile`);
  expect(json(landed)).toEqual({ sub: USER.sub, name: USER.name });
  expect(json(await browser.get(`${running.url}/verified`))).toEqual({ email: USER.username, verified: true });
});

test('call-api: the API accepts the access token', async () => {
  running = await startExample('call-api');
  const landed = await signIn(new Browser(), `${running.url}/call-api`);
  expect(landed.status).toBe(200);
  const body = json(landed) as { api: { sub: string }; tokenExpiresAt: number };
  expect(body.api.sub).toBe(USER.sub);
  expect(body.tokenExpiresAt).toBeGreaterThan(Date.now() / 1000);
});

test("custom-routes: the app's own sign-in and sign-out routes, the moved callback", async () => {
  running = await startExample('custom-routes');
  const browser = new Browser();
  expect((await browser.get(`${running.url}/login`, { follow: false })).status).toBe(404);
  const landed = await signIn(browser, `${running.url}/sign-in`);
  expect(landed.url).toBe(`${running.url}/welcome`);
  expect(landed.redirects.some((url) => url.startsWith(`${running?.url}/auth/callback?`))).toBe(true);
  expect(json(landed)).toEqual({ welcome: USER.name, signOut: '/sign-out' });
  const out = await browser.get(`${running.url}/sign-out`);
  expect(out.url).toBe(`${running.url}/signed-out`);
  expect(json(out)).toEqual({ signedIn: false, signIn: '/sign-in' });
});

test('m2m: the API accepts the client credentials token', async () => {
  running = await startExample('m2m');
  const res = await new Browser().get(`${running.url}/report`);
  expect(res.status).toBe(200);
  expect(json(res)).toMatchObject({ api: { sub: 'example-app' } });
});

test('dpop: DPoP-bound tokens, userinfo fetched with a proof', async () => {
  running = await startExample('dpop');
  const landed = await signIn(new Browser(), `${running.url}/profile`);
  expect(json(landed)).toEqual({ tokenType: 'DPoP', userinfo: expect.objectContaining({ sub: USER.sub, name: USER.name }) });
});

test('password-login: the form signs in without a redirect to the OP; wrong credentials get the form again', async () => {
  running = await startExample('password-login');
  const browser = new Browser();
  const page = await browser.get(`${running.url}/`);
  const wrong = await browser.submitForm(page, { username: USER.username, password: 'not-the-password' });
  expect(wrong.status).toBe(401);
  expect(wrong.body).toContain('role="alert"');
  const landed = await browser.submitForm(page, { username: USER.username, password: USER.password });
  expect(landed.url).toBe(`${running.url}/profile`);
  expect(landed.redirects.every((url) => url.startsWith(running?.url ?? '-'))).toBe(true);
  expect(json(landed)).toEqual({ sub: USER.sub, name: USER.name, refreshToken: true });
});

describe('redis', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  test('signed in on one instance, signed in on the other', async () => {
    const second = await freePort();
    running = await startExample('redis', { REDIS_URL: redis.url, SECOND_PORT: String(second) });
    const browser = new Browser();
    const landed = await signIn(browser, `${running.url}/profile`);
    expect(json(landed)).toEqual({ instance: 1, sub: USER.sub, name: USER.name });
    // Browsers send cookies by host name, whatever the port: the second instance gets the same cookie.
    expect(json(await browser.get(`http://localhost:${second}/profile`))).toEqual({ instance: 2, sub: USER.sub, name: USER.name });
    expect(Number(await redis.command('DBSIZE'))).toBeGreaterThan(0);
  });
});
