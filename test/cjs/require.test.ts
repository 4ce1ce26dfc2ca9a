/**
 * CommonJS consumers: an app that uses `require('express-oidc')` signs a user
 * in, with Express 5 and with Express 4. The package is ESM; Node (20.19 and
 * later) serves it to `require` (require(esm)). Needs `dist/` (npm test builds first).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Browser } from '../helpers/browser.js';
import { freePort, APP_SECRET } from '../helpers/app.js';
import { createTestOP, TEST_CLIENT_ID, TEST_CLIENT_SECRET, USERS } from '../helpers/op.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const READY_TIMEOUT_MS = 15_000;

interface Child {
  output(): string;
  stop(): Promise<number | null>;
}

async function startCjsApp(env: Record<string, string>): Promise<Child> {
  const clean: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete clean.NODE_OPTIONS; // the app runs on plain node, not under jest's flags
  delete clean.DEBUG;
  const child = spawn(process.execPath, ['test/cjs/app.cjs'], { cwd: ROOT, env: clean, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = await Promise.race([
    new Promise<boolean>((resolve) => {
      const check = () => out.includes('listening on') && resolve(true);
      child.stdout.on('data', check);
    }),
    exited.then(() => false),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), READY_TIMEOUT_MS).unref()),
  ]);
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  if (!ready) {
    await stop();
    throw new Error(`the CommonJS app did not start:\n${out}`);
  }
  return { output: () => out, stop };
}

beforeAll(() => {
  if (!existsSync(new URL('../../dist/index.js', import.meta.url))) {
    throw new Error('dist/ is missing: run npm run build first (npm test does)');
  }
});

test.each(['5', '4'])('require("express-oidc") signs a user in with Express %s', async (major) => {
  const port = await freePort();
  const baseURL = `http://127.0.0.1:${port}`;
  const op = await createTestOP({ appBaseURL: baseURL });
  let app: Child | undefined;
  try {
    app = await startCjsApp({
      EXPRESS_MAJOR: major,
      PORT: String(port),
      ISSUER_BASE_URL: op.issuer,
      BASE_URL: baseURL,
      CLIENT_ID: TEST_CLIENT_ID,
      CLIENT_SECRET: TEST_CLIENT_SECRET,
      SECRET: APP_SECRET,
    });
    const browser = new Browser();
    const anonymous = await browser.get(`${baseURL}/profile`, { follow: false });
    expect(anonymous.status).toBe(302);

    const landed = await op.signIn(browser, `${baseURL}/login?returnTo=/profile`);
    expect(landed.url).toBe(`${baseURL}/profile`);
    const body = JSON.parse(landed.body);
    expect(body).toMatchObject({ sub: USERS.alice.sub, hasAccessToken: true });
    expect(body.express.split('.')[0]).toBe(major);
    expect(app.output()).not.toMatch(/ERR_REQUIRE_ESM|ERR_REQUIRE_ASYNC_MODULE/);
    expect(await app.stop()).toBe(0);
  } finally {
    await app?.stop();
    await op.stop();
  }
});
