/**
 * The published package, as a new user gets it: `npm pack` on a clean
 * checkout (only the files git knows, no dist/ yet: `prepack` builds it),
 * the tarball installed into fresh apps with nothing but express and
 * @types/express (Express 5 and Express 4), and each app started and signed
 * in through the test OP: an ES module app, a CommonJS app (require(esm)),
 * and a strict TypeScript app (`skipLibCheck: false`) compiled both as an
 * ES module and as CommonJS. publint and arethetypeswrong check the tarball.
 *
 * `npm run test:package`. Installs use the npm cache first (`--prefer-offline`).
 */
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Browser } from '../helpers/browser.js';
import { APP_SECRET, freePort } from '../helpers/app.js';
import { createTestOP, TEST_CLIENT_ID, TEST_CLIENT_SECRET, USERS } from '../helpers/op.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const APPS = fileURLToPath(new URL('./apps/', import.meta.url));
const BIN = join(ROOT, 'node_modules', '.bin');
const SETUP_TIMEOUT_MS = 10 * 60_000;
const READY_TIMEOUT_MS = 20_000;
const run = promisify(execFile);

/** The environment of every child: plain node, none of jest's flags, no debug output. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.NODE_OPTIONS;
  delete env.DEBUG;
  return env;
}

/** Runs a command; resolves with its standard output, or fails with all it printed. */
async function sh(command: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await run(command, args, { cwd, env: childEnv(), maxBuffer: 32 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${e.stdout ?? ''}${e.stderr ?? e.message}`);
  }
}

/** Runs a command that is expected to fail; resolves with its output. */
async function shFailing(command: string, args: string[], cwd: string): Promise<string> {
  try {
    await run(command, args, { cwd, env: childEnv() });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return `${e.stdout ?? ''}${e.stderr ?? ''}`;
  }
  throw new Error(`${command} ${args.join(' ')} succeeded, but was expected to fail`);
}

let work: string;
let tarball: string;
const consumers = new Map<string, string>();
/** What tsc said about each TypeScript app (`express5/ts-esm`...): '' when it compiled. */
const compiled = new Map<string, string>();
const tsc = (dir: string) => sh(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', '.'], dir);

/** A copy of the checkout as git sees it (tracked and new files, nothing ignored), packed there. */
async function packCleanCheckout(): Promise<string> {
  const checkout = join(work, 'checkout');
  const listed = await sh('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], ROOT);
  for (const file of listed.split('\0').filter(Boolean)) {
    const from = join(ROOT, file);
    try {
      if (!statSync(from).isFile()) continue;
    } catch {
      continue; // deleted in the work tree, not yet committed
    }
    mkdirSync(dirname(join(checkout, file)), { recursive: true });
    copyFileSync(from, join(checkout, file));
  }
  // The build needs the dev tools; a clean clone gets them from `npm ci`.
  symlinkSync(join(ROOT, 'node_modules'), join(checkout, 'node_modules'), 'dir');
  const out = await sh('npm', ['pack', '--json', '--pack-destination', work], checkout);
  const [info] = JSON.parse(out) as Array<{ filename: string }>;
  return join(work, (info as { filename: string }).filename);
}

const TS_CONFIG = {
  compilerOptions: {
    strict: true,
    noUncheckedIndexedAccess: true,
    skipLibCheck: false,
    module: 'nodenext',
    moduleResolution: 'nodenext',
    target: 'es2022',
    outDir: 'out',
    rootDir: '.',
  },
  files: ['app.ts'],
};

/** A fresh app folder: its package.json `type`, and the app from test/pack/apps. */
function writeApp(consumer: string, kind: string, type: 'module' | 'commonjs', source: string, target: string): void {
  const dir = join(consumer, kind);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `app-${kind}`, private: true, type }, null, 2));
  copyFileSync(join(APPS, source), join(dir, target));
  if (target.endsWith('.ts')) writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(TS_CONFIG, null, 2));
}

async function installConsumer(major: '4' | '5'): Promise<string> {
  const consumer = join(work, `express${major}`);
  mkdirSync(consumer);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: `consumer-express${major}`, private: true }, null, 2));
  await sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarball, `express@^${major}`, `@types/express@^${major}`], consumer);
  writeApp(consumer, 'esm', 'module', 'esm.js', 'app.js');
  writeApp(consumer, 'cjs', 'commonjs', 'cjs.js', 'app.js');
  writeApp(consumer, 'ts-esm', 'module', 'app.ts', 'app.ts');
  writeApp(consumer, 'ts-cjs', 'commonjs', 'app.ts', 'app.ts');
  // Compiled once here (tsc takes a while with skipLibCheck: false), checked and run by the tests.
  for (const kind of ['ts-esm', 'ts-cjs']) {
    compiled.set(`express${major}/${kind}`, await tsc(join(consumer, kind)).then(() => '', (err: Error) => err.message));
  }
  return consumer;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'express-oidc-pack-'));
  tarball = await packCleanCheckout();
  for (const major of ['5', '4'] as const) consumers.set(major, await installConsumer(major));
}, SETUP_TIMEOUT_MS);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the tarball', () => {
  test('holds the built code, its types, the LICENSE and the README, and no source maps', async () => {
    const files = (await sh('tar', ['-tzf', tarball], work)).split('\n').filter(Boolean);
    expect(files).toEqual(expect.arrayContaining(['package/dist/index.js', 'package/dist/index.d.ts', 'package/LICENSE', 'package/README.md', 'package/package.json']));
    expect(files.filter((file) => file.endsWith('.map'))).toEqual([]);
    expect(files.filter((file) => !file.startsWith('package/dist/') && !['package/LICENSE', 'package/README.md', 'package/package.json'].includes(file))).toEqual([]);
    const license = await sh('tar', ['-xzOf', tarball, 'package/LICENSE'], work);
    expect(license).toMatch(/^MIT License/);
    expect(license).toContain('express-oidc contributors');
  });

  test('names its repository, home page and issue tracker', async () => {
    const manifest = JSON.parse(await sh('tar', ['-xzOf', tarball, 'package/package.json'], work)) as Record<string, unknown>;
    expect(manifest).toMatchObject({
      license: 'MIT',
      repository: { url: expect.stringContaining('github.com/express-oidc/express-oidc') },
      homepage: expect.stringContaining('github.com/express-oidc/express-oidc'),
      bugs: { url: expect.stringContaining('github.com/express-oidc/express-oidc/issues') },
    });
  });

  test('passes publint (strict)', async () => {
    expect(await sh(join(BIN, 'publint'), [tarball, '--strict'], work)).toContain('All good');
  });

  test('passes arethetypeswrong', async () => {
    // The package is ESM only: CommonJS apps load it with require(esm) (Node 20.19+), and TypeScript
    // accepts that with "module": "nodenext" (5.8+), which this attw's TypeScript does not know yet.
    const out = await sh(join(BIN, 'attw'), [tarball, '--ignore-rules', 'cjs-resolves-to-esm', '--format', 'ascii', '--no-color'], work);
    expect(out).toMatch(/No problems found/);
  });
});

describe.each(['5', '4'] as const)('installed with Express %s', (major) => {
  test('the consumer has that Express and nothing of the repo', () => {
    const consumer = consumers.get(major) as string;
    const express = JSON.parse(readFileSync(join(consumer, 'node_modules/express/package.json'), 'utf8')) as { version: string };
    expect(express.version.split('.')[0]).toBe(major);
    const installed = JSON.parse(readFileSync(join(consumer, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(Object.keys(installed.dependencies).sort()).toEqual(['@types/express', 'express', 'express-oidc']);
  });

  test('strict TypeScript compiles with skipLibCheck: false, as an ES module and as CommonJS', async () => {
    expect(compiled.get(`express${major}/ts-esm`)).toBe('');
    expect(compiled.get(`express${major}/ts-cjs`)).toBe('');
  });

  test('the types catch a typo in an option and in req.oidc', async () => {
    const dir = join(consumers.get(major) as string, 'ts-typo');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ ...TS_CONFIG, compilerOptions: { ...TS_CONFIG.compilerOptions, noEmit: true } }));
    writeFileSync(
      join(dir, 'app.ts'),
      [
        "import express from 'express';",
        "import { auth } from 'express-oidc';",
        'const app = express();',
        'app.use(auth({ authRequierd: false }));',
        "app.get('/', (req, res) => res.send(req.oidc.usr));",
      ].join('\n'),
    );
    const out = await shFailing(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', '.'], dir);
    expect(out).toMatch(/'authRequierd' does not exist/);
    expect(out).toMatch(/Property 'usr' does not exist/);
    expect(out.match(/error TS/g)).toHaveLength(2);
  });

  test.each([
    ['esm', 'app.js'],
    ['cjs', 'app.js'],
    ['ts-esm', 'out/app.js'],
    ['ts-cjs', 'out/app.js'],
  ])('the %s app signs a user in', async (kind, entry) => {
    const dir = join(consumers.get(major) as string, kind);
    if (kind.startsWith('ts-')) expect(compiled.get(`express${major}/${kind}`)).toBe('');
    const port = await freePort();
    const baseURL = `http://127.0.0.1:${port}`;
    const op = await createTestOP({ appBaseURL: baseURL });
    let app: Child | undefined;
    try {
      app = await startApp(dir, entry, {
        PORT: String(port),
        APP_FORMAT: kind,
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
      expect(JSON.parse(landed.body)).toMatchObject({ format: kind, sub: USERS.alice.sub, name: USERS.alice.name, hasAccessToken: true });
      expect(app.output()).not.toMatch(/ERR_REQUIRE_ESM|ERR_REQUIRE_ASYNC_MODULE|Error:/);
      expect(await app.stop()).toBe(0);
    } finally {
      await app?.stop();
      await op.stop();
    }
  });
});

interface Child {
  output(): string;
  stop(): Promise<number | null>;
}

async function startApp(cwd: string, entry: string, env: Record<string, string>): Promise<Child> {
  const child = spawn(process.execPath, [entry], { cwd, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = await Promise.race([
    new Promise<boolean>((resolve) => child.stdout.on('data', () => out.includes('listening on') && resolve(true))),
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
    throw new Error(`the app in ${cwd} did not start:\n${out}`);
  }
  return { output: () => out, stop };
}
