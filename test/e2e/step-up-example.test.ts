/**
 * The runnable example of docs/step-up-and-mfa.md, run as a newcomer runs it
 * (`node example/step-up-and-mfa.js`, with the embedded demo OP): a password
 * login finished with the one-time code of the demo user's factor, the
 * multi-factor page, and the step-up refused for the user without a factor.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Browser, parseFirstForm, type BrowserResponse } from '../helpers/browser.js';
import { freePorts } from '../helpers/flow.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let child: ChildProcess | undefined;
let output = '';
let appURL = '';

beforeAll(async () => {
  const [port = 0, opPort = 0] = await freePorts(2);
  appURL = `http://localhost:${port}`;
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), OP_PORT: String(opPort) };
  delete env.NODE_OPTIONS;
  child = spawn(process.execPath, ['example/step-up-and-mfa.js'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  for (let i = 0; i < 200 && !output.includes(`Open ${appURL}`); i += 1) await new Promise((resolve) => setTimeout(resolve, 100));
  if (!output.includes(`Open ${appURL}`)) throw new Error(`the example did not start (was the package built? npm run build):\n${output}`);
});
afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child?.once('exit', resolve));
    child.kill('SIGINT');
    await exited;
  }
});

const shownCode = (html: string): string => {
  const code = /app shows (\d{6})\.|code <b>(\d{6})<\/b>/.exec(html);
  if (!code) throw new Error(`no one-time code on the page:\n${html.slice(0, 500)}`);
  return (code[1] ?? code[2]) as string;
};

/** Through the OP's login page (username, password, and the code when the page shows one for this user). */
async function loginAtOP(browser: Browser, start: string, username: string, withCode: boolean): Promise<BrowserResponse> {
  let res = await browser.get(start);
  for (let i = 0; i < 5; i += 1) {
    const form = parseFirstForm(res.body, res.url);
    if (!form || !/\/interaction\/[^/]+\/login$/.test(new URL(form.action).pathname)) return res;
    res = await browser.post(form.action, { username, password: 'demo-password', ...(withCode ? { otp: shownCode(res.body) } : {}) });
  }
  return res;
}

test('password login with the one-time code, then the multi-factor page', async () => {
  const browser = new Browser();
  const codePage = await browser.post(`${appURL}/login/password`, { username: 'mfa@example.com', password: 'demo-password' }, { follow: false });
  expect(codePage.status).toBe(401);
  const form = parseFirstForm(codePage.body, codePage.url);
  const home = await browser.post(`${appURL}/login/password`, { pendingLogin: new Map(form?.fields).get('pendingLogin') ?? '', otp: shownCode(codePage.body) });
  expect(home.url).toBe(`${appURL}/`);
  expect(home.body).toMatch(/Signed in as mfa@example\.com \(acr http:\/\/schemas\.openid\.net\/pape\/policies\/2007\/06\/multi-factor/);
  const transfer = await browser.get(`${appURL}/transfer`);
  expect(transfer.status).toBe(200);
  expect(transfer.body).toContain('you signed in with a second factor');
});

test('a user without a second factor is refused the step-up (ERR_STEP_UP_FAILED), the user with one gets in', async () => {
  const plain = new Browser();
  await loginAtOP(plain, `${appURL}/login`, 'demo@example.com', false);
  const refused = await plain.get(`${appURL}/transfer`);
  expect(refused.status).toBe(403);
  expect(refused.body).toMatch(/authentication level/);

  const mfa = new Browser();
  const landed = await loginAtOP(mfa, `${appURL}/transfer`, 'mfa@example.com', true);
  expect(landed.url).toBe(`${appURL}/transfer`);
  expect(landed.status).toBe(200);
});
