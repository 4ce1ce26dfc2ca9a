/**
 * A real `redis-server` for tests: started on a free port on 127.0.0.1 with
 * no persistence (`--save '' --appendonly no`) in a temporary directory, and
 * stopped by its own pid. Without the binary the suite fails, naming the
 * package to install.
 *
 * Outages are simulated two ways:
 * - `pause()` / `resume()` freeze the process (SIGSTOP / SIGCONT): the port
 *   stays open and commands hang, as with an overloaded or partitioned server;
 * - `restart()` shuts the server down (`SHUTDOWN SAVE`: one snapshot, written
 *   only at shutdown), so connections are refused, then starts it again on the
 *   same port and directory: the data comes back, as with a Redis that
 *   persists its data and was restarted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './app.js';

export const REDIS_MISSING = 'redis-server not found: apt-get install -y redis-server';

export interface RedisServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** pid of the running server process */
  readonly pid: number;
  /** freezes the server (SIGSTOP): connections stay open, commands get no answer */
  pause(): void;
  /** unfreezes it (SIGCONT) */
  resume(): void;
  /** shuts down with one snapshot, waits for the exit; `start()` brings it back with the data */
  shutdown(): Promise<void>;
  /** starts it again on the same port and directory */
  start(): Promise<void>;
  /** `shutdown()` then `start()` */
  restart(): Promise<void>;
  /** stops the server for good and removes its directory */
  stop(): Promise<void>;
  /** runs one command over a raw connection (for test setup and checks) */
  command(...args: string[]): Promise<unknown>;
}

/** redis-server on PATH, or Debian's /usr/bin/redis-server; throws REDIS_MISSING without one. */
export function findRedisServer(searchPath = process.env.PATH ?? '', fallback = '/usr/bin/redis-server'): string {
  const dirs = searchPath.split(path.delimiter).filter(Boolean);
  for (const candidate of [...dirs.map((d) => path.join(d, 'redis-server')), fallback]) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new Error(REDIS_MISSING);
}

const live = new Set<ChildProcess>();
// Last resort when a test file dies before its afterAll: no server outlives the test process.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Spawns redis-server and resolves once it accepts connections, or rejects with its output. */
function spawnServer(binary: string, port: number, dir: string): Promise<ChildProcess> {
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--save', '',
    '--appendonly', 'no',
    '--dir', dir,
    '--dbfilename', 'dump.rdb',
    '--daemonize', 'no',
    '--loglevel', 'notice',
  ];
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server did not start within 10 s:\n${output}`));
    }, 10_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        // keep draining so a full pipe never blocks the server
        child.stdout?.resume();
        child.stderr?.resume();
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code}) before it was ready:\n${output}`));
    });
  });
}

/** Encodes a command in RESP and returns the first reply, parsed just enough for tests. */
function rawCommand(port: number, args: string[], timeoutMs = 5_000): Promise<unknown> {
  const payload = `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`redis command ${args[0]} timed out`));
    }, timeoutMs);
    const finish = (err: Error | null, value?: unknown) => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(value);
    };
    socket.on('connect', () => socket.write(payload));
    socket.on('data', (chunk) => {
      data += chunk.toString('utf8');
      const reply = parseReply(data);
      if (reply !== undefined) finish(reply instanceof Error ? reply : null, reply);
    });
    // SHUTDOWN closes the connection without a reply
    socket.on('close', () => finish(null, null));
    socket.on('error', (err) => finish(err));
  });
}

/** A complete simple reply (+, -, :, $), or undefined while incomplete. Arrays are not needed here. */
function parseReply(data: string): unknown {
  const end = data.indexOf('\r\n');
  if (end === -1) return undefined;
  const head = data.slice(1, end);
  switch (data[0]) {
    case '+':
      return head;
    case '-':
      return new Error(head);
    case ':':
      return Number(head);
    case '$': {
      const length = Number(head);
      if (length < 0) return null;
      return data.length >= end + 2 + length + 2 ? data.slice(end + 2, end + 2 + length) : undefined;
    }
    default:
      return data.slice(0, end);
  }
}

/** Starts a redis-server on a free port on 127.0.0.1. */
export async function startRedis(): Promise<RedisServer> {
  const binary = findRedisServer();
  const dir = mkdtempSync(path.join(tmpdir(), 'express-oidc-redis-'));
  let port = 0;
  let child: ChildProcess | undefined;
  // A port free a moment ago may be taken by the time the server binds it: try a few.
  for (let attempt = 0; child === undefined; attempt += 1) {
    port = await freePort();
    try {
      child = await spawnServer(binary, port, dir);
    } catch (err) {
      if (attempt >= 2) {
        rmSync(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }
  let current: ChildProcess | undefined = child;

  const running = (): ChildProcess => {
    if (current === undefined) throw new Error('redis-server is not running');
    return current;
  };

  const server: RedisServer = {
    host: '127.0.0.1',
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return running().pid as number;
    },
    pause() {
      running().kill('SIGSTOP');
    },
    resume() {
      running().kill('SIGCONT');
    },
    async shutdown() {
      const proc = running();
      proc.kill('SIGCONT');
      await rawCommand(port, ['SHUTDOWN', 'SAVE']);
      if (!(await waitForExit(proc, 10_000))) throw new Error('redis-server did not shut down');
      current = undefined;
    },
    async start() {
      if (current !== undefined) return;
      current = await spawnServer(binary, port, dir);
    },
    async restart() {
      await server.shutdown();
      await server.start();
    },
    async stop() {
      const proc = current;
      current = undefined;
      if (proc !== undefined) {
        proc.kill('SIGCONT');
        proc.kill('SIGTERM');
        if (!(await waitForExit(proc, 5_000))) {
          proc.kill('SIGKILL');
          await waitForExit(proc, 5_000);
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
    command: (...args: string[]) => rawCommand(port, args),
  };
  return server;
}
