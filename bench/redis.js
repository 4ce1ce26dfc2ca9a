/** A throw-away `redis-server` on a free port of 127.0.0.1, without persistence. */
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';

const INSTALL_HINT = 'redis-server is not installed; the Redis cases need it: apt-get install -y redis-server';

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Starts redis-server and resolves once it accepts connections, with its
 * `url` and `stop()`. Fails with the install command when it is missing.
 */
export async function startRedis({ timeout = 10_000 } = {}) {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) throw new Error(INSTALL_HINT);

  const port = await freePort();
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start within ${timeout} ms: ${output.slice(-500)}`)), timeout);
    const onData = (chunk) => {
      output += chunk;
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        proc.stdout.off('data', onData);
        resolve();
      }
    };
    proc.stdout.setEncoding('utf8').on('data', onData);
    proc.stderr.setEncoding('utf8').on('data', (chunk) => (output += chunk));
    proc.once('error', (err) => (clearTimeout(timer), reject(err)));
    exited.then((code) => (clearTimeout(timer), reject(new Error(`redis-server exited (${code}): ${output.slice(-500)}`))));
  });
  proc.stdout.resume();
  proc.stderr.resume();

  return {
    url: `redis://127.0.0.1:${port}`,
    pid: proc.pid,
    /** Stops the server (SIGTERM, then SIGKILL after 5 s). */
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
    /** Kills the server now (for exit handlers). */
    kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    },
  };
}
