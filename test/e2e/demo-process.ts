/**
 * Runs `node example/demo.js` as a child process on the given ports, the way
 * a newcomer runs it, and stops it with SIGINT (Ctrl-C).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;

export interface DemoProcess {
  appURL: string;
  opURL: string;
  /** Everything the demo printed so far (stdout and stderr). */
  output(): string;
  /** Ctrl-C; resolves with the exit code (null when it had to be killed). */
  stop(): Promise<number | null>;
}

export async function startDemo(options: { port: number; opPort: number; accessTokenTTL: number }): Promise<DemoProcess> {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(options.port), OP_PORT: String(options.opPort), ACCESS_TOKEN_TTL: String(options.accessTokenTTL) };
  // The embedded OP is used only when no other OP is configured.
  for (const name of ['ISSUER_BASE_URL', 'CLIENT_ID', 'CLIENT_SECRET', 'BASE_URL', 'SECRET', 'AUDIENCE', 'DEBUG', 'NODE_OPTIONS']) delete env[name];

  const child: ChildProcess = spawn(process.execPath, ['example/demo.js'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const appURL = `http://localhost:${options.port}`;
  const ready = await Promise.race([
    new Promise<boolean>((resolve) => {
      const check = () => {
        if (out.includes(`Open ${appURL}`)) {
          child.stdout?.off('data', check);
          resolve(true);
        }
      };
      child.stdout?.on('data', check);
      check();
    }),
    exited.then(() => false),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), READY_TIMEOUT_MS).unref()),
  ]);
  const stop = async (): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  if (!ready) {
    await stop();
    throw new Error(`the demo did not start (was the package built? npm run build):\n${out}`);
  }
  return { appURL, opURL: `http://localhost:${options.opPort}`, output: () => out, stop };
}
