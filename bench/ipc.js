/**
 * Request/reply over Node's IPC channel between run.js and the processes it
 * forks. A request is { id, type, ...payload }; the reply { id, ok, value }
 * or { id, ok: false, error }.
 */
import { fork } from 'node:child_process';

/**
 * In a forked process: answers the parent's requests with `handlers[type]`
 * and announces `ready`. A `stop` handler runs before the process exits; the
 * process also exits when the parent goes away.
 */
export function serveParent(handlers, ready) {
  if (typeof process.send !== 'function') throw new Error('this module runs as a child of bench/run.js');
  process.on('message', async (message) => {
    const { id, type, ...payload } = message;
    const handler = handlers[type];
    try {
      if (handler === undefined) throw new Error(`unknown request "${type}"`);
      const value = await handler(payload);
      process.send({ id, ok: true, value });
    } catch (err) {
      process.send({ id, ok: false, error: err instanceof Error ? err.stack ?? err.message : String(err) });
    }
    if (type === 'stop') process.disconnect();
  });
  process.on('disconnect', () => process.exit(0));
  process.send({ type: 'ready', ...ready });
}

const live = new Set();

/** A forked benchmark process, with `call(type, payload)` to talk to it. */
export class Child {
  #process;
  #pending = new Map();
  #nextId = 1;
  #exited;

  /** Forks `file` and waits for its `ready` message (whose fields become `info`). */
  static async start(name, file, args = [], { execArgv = [], env = process.env, timeout = 20_000 } = {}) {
    const child = new Child(name, fork(file, args, { execArgv, env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    child.info = await child.#ready(timeout);
    return child;
  }

  constructor(name, proc) {
    this.name = name;
    this.#process = proc;
    live.add(this);
    this.#exited = new Promise((resolve) => proc.once('exit', (code, signal) => {
      live.delete(this);
      for (const { reject } of this.#pending.values()) reject(new Error(`${name} exited (${signal ?? code})`));
      this.#pending.clear();
      resolve();
    }));
    proc.on('message', (message) => {
      const pending = this.#pending.get(message.id);
      if (pending === undefined) return;
      this.#pending.delete(message.id);
      if (message.ok) pending.resolve(message.value);
      else pending.reject(new Error(`${name}: ${message.error}`));
    });
  }

  get pid() {
    return this.#process.pid;
  }

  #ready(timeout) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name} did not start within ${timeout} ms`)), timeout);
      const onMessage = (message) => {
        if (message.type !== 'ready') return;
        clearTimeout(timer);
        this.#process.off('message', onMessage);
        const { type: _type, ...info } = message;
        resolve(info);
      };
      this.#process.on('message', onMessage);
      this.#exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited before it was ready`));
      });
    });
  }

  /** Sends a request and resolves with the reply's value (rejects on error or after `timeout` ms). */
  call(type, payload = {}, timeout = 30_000) {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${this.name}: no answer to "${type}" within ${timeout} ms`));
      }, timeout);
      this.#pending.set(id, {
        resolve: (value) => (clearTimeout(timer), resolve(value)),
        reject: (err) => (clearTimeout(timer), reject(err)),
      });
      this.#process.send({ id, type, ...payload });
    });
  }

  /** Asks the process to stop (so a CPU profile gets written), then kills it if it lingers. */
  async stop() {
    if (this.#process.exitCode !== null || this.#process.signalCode !== null) return;
    this.call('stop', {}, 5_000).catch(() => {});
    const timer = setTimeout(() => this.#process.kill('SIGKILL'), 5_000);
    await this.#exited;
    clearTimeout(timer);
  }

  /** Kills the process now (for exit handlers, which cannot wait). */
  kill() {
    if (this.#process.exitCode === null && this.#process.signalCode === null) this.#process.kill('SIGKILL');
  }
}

/** Stops every forked process still running. */
export async function stopAll() {
  await Promise.all([...live].map((child) => child.stop()));
}

/** Kills every forked process still running, synchronously. */
export function killAll() {
  for (const child of live) child.kill();
}
