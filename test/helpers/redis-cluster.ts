/**
 * A real 3-node Redis Cluster for tests: three `redis-server --cluster-enabled yes`
 * on free ports of 127.0.0.1 (each with its cluster bus on port + 10000), each
 * in its own temporary directory, joined by `redis-cli --cluster create` with
 * no replicas, and stopped by their own pids. Without the binaries the suite
 * fails, naming the package to install.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { findRedisServer, REDIS_MISSING } from './redis.js';

const run = promisify(execFile);

export interface RedisCluster {
  /** `[{ url: 'redis://127.0.0.1:<port>' }, ...]`, the rootNodes of node-redis' createCluster */
  readonly rootNodes: Array<{ url: string }>;
  readonly ports: number[];
  /** runs one command against the node at `port` through redis-cli (`-c` follows redirects) */
  command(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

function redisCli(): string {
  return path.join(path.dirname(findRedisServer()), 'redis-cli');
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** A port below 55536 that is free, and whose cluster bus port (+10000) is free too. */
async function clusterPort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const port = 20_000 + Math.floor(Math.random() * 35_000);
    if (taken.has(port) || taken.has(port + 10_000)) continue;
    if ((await canListen(port)) && (await canListen(port + 10_000))) return port;
  }
  throw new Error('no free port pair for a cluster node');
}

function spawnNode(binary: string, port: number, dir: string): Promise<ChildProcess> {
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--cluster-enabled', 'yes',
    '--cluster-config-file', path.join(dir, 'nodes.conf'),
    '--cluster-node-timeout', '5000',
    '--save', '',
    '--appendonly', 'no',
    '--dir', dir,
    '--daemonize', 'no',
  ];
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server (cluster node) did not start within 10 s:\n${output}`));
    }, 10_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
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
      reject(new Error(`redis-server (cluster node) exited (${code}) before it was ready:\n${output}`));
    });
  });
}

async function stopNode(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Starts three cluster-mode nodes, creates the cluster and waits until every node reports it ok. */
export async function startRedisCluster(): Promise<RedisCluster> {
  const binary = findRedisServer();
  const cli = redisCli();
  try {
    await run(cli, ['--version']);
  } catch {
    throw new Error(REDIS_MISSING.replace('redis-server not found', 'redis-cli not found'));
  }
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  const ports: number[] = [];
  const stop = async () => {
    await Promise.all(children.map(stopNode));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  };
  try {
    const taken = new Set<number>();
    for (let i = 0; i < 3; i += 1) {
      const port = await clusterPort(taken);
      taken.add(port).add(port + 10_000);
      const dir = mkdtempSync(path.join(tmpdir(), 'express-oidc-redis-cluster-'));
      dirs.push(dir);
      children.push(await spawnNode(binary, port, dir));
      ports.push(port);
    }
    await run(cli, ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { timeout: 30_000 });
    const deadline = Date.now() + 30_000;
    for (const port of ports) {
      for (;;) {
        const { stdout } = await run(cli, ['-p', String(port), 'cluster', 'info']);
        if (stdout.includes('cluster_state:ok')) break;
        if (Date.now() > deadline) throw new Error(`the cluster did not become ready:\n${stdout}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    rootNodes: ports.map((port) => ({ url: `redis://127.0.0.1:${port}` })),
    ports,
    command: async (...args: string[]) => (await run(cli, ['-c', '-p', String(ports[0]), ...args])).stdout.trim(),
    stop,
  };
}
