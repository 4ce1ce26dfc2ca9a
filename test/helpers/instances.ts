/**
 * Two instances of one app, as behind a load balancer: two Express apps on
 * two ports of 127.0.0.1, each with its own `auth()` and in-process state and
 * its own Redis client, sharing one redis-server through connect-redis 9, the
 * `RedisRefreshLock` and the `RedisLogoutIndex`. Same client ID and secret,
 * so the session cookie one sets is valid on the other (the test browser
 * shares cookies across ports, like a real one).
 *
 * The OP's default clients are registered with both instances' callback and
 * post-logout URLs; their back-channel logout URL is instance A's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Express, RequestHandler } from 'express';
import { RedisStore } from 'connect-redis';
import { createClient, type RedisClientOptions } from 'redis';
import { RedisLogoutIndex, RedisRefreshLock, type AuthOptions } from '../../src/index.js';
import { Browser } from './browser.js';
import { freePort, startApp, type TestApp } from './app.js';
import { createTestOP, defaultClients, type TestOP, type TestOPOptions } from './op.js';
import type { TokenFault } from './op-faults.js';
import type { RedisServer } from './redis.js';

export type RedisClient = ReturnType<typeof createClient>;

export interface Instance extends TestApp {
  readonly name: 'A' | 'B';
  readonly redis: RedisClient;
  readonly store: RedisStore;
  /** 'error' events of this instance's Redis client (an app must listen, or the process dies). */
  readonly redisErrors: string[];
}

export interface Instances {
  op: TestOP;
  a: Instance;
  b: Instance;
  close(): Promise<void>;
}

export interface InstancesOptions {
  op?: TestOPOptions;
  /**
   * `auth()` options (the session store, refresh lock and logout index are set here); a function
   * gives each instance its own objects, as separate processes would have
   */
  app?: AuthOptions | ((name: 'A' | 'B') => AuthOptions);
  /** Redis client options per instance */
  client?: { A?: RedisClientOptions; B?: RedisClientOptions };
  routes?: (app: Express) => void;
  /** middleware before `auth()`, per instance */
  before?: { A?: RequestHandler[]; B?: RequestHandler[] };
  /** more app URLs the OP's clients accept (e.g. instances in processes of their own) */
  extraAppURLs?: string[];
}

/** What the guide recommends: fail fast while Redis is away, reconnect quickly when it is back. */
export const RECOMMENDED_CLIENT: RedisClientOptions = {
  disableOfflineQueue: true,
  socket: { reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 500) },
};

async function startInstance(
  name: 'A' | 'B',
  redisServer: RedisServer,
  issuer: string,
  port: number,
  options: InstancesOptions,
): Promise<Instance> {
  const clientOptions = options.client?.[name] ?? RECOMMENDED_CLIENT;
  const redis = createClient({ ...clientOptions, url: redisServer.url });
  const redisErrors: string[] = [];
  redis.on('error', (err: Error) => redisErrors.push(err.message));
  await redis.connect();
  const store = new RedisStore({ client: redis });
  const appOptions = typeof options.app === 'function' ? options.app(name) : options.app;
  try {
    const app = await startApp(
      issuer,
      port,
      {
        backchannelLogout: { index: new RedisLogoutIndex(redis) },
        refreshLock: new RedisRefreshLock(redis),
        ...appOptions,
        session: { ...appOptions?.session, store },
      },
      options.routes,
      options.before?.[name] ?? [],
    );
    return Object.assign(app, { name, redis, store, redisErrors });
  } catch (err) {
    redis.destroy();
    throw err;
  }
}

export async function startInstances(redisServer: RedisServer, options: InstancesOptions = {}): Promise<Instances> {
  const [portA, portB] = [await freePort(), await freePort()];
  const urlA = `http://127.0.0.1:${portA}`;
  const urlB = `http://127.0.0.1:${portB}`;
  const urls = [urlA, urlB, ...(options.extraAppURLs ?? [])];
  const clients = defaultClients(urlA).map((client) => ({
    ...client,
    redirect_uris: urls.map((url) => `${url}/callback`),
    post_logout_redirect_uris: urls.flatMap((url) => [url, `${url}/`]),
  }));
  const op = await createTestOP({ appBaseURL: urlA, clients, ...options.op });
  const started: Instance[] = [];
  const close = async () => {
    for (const instance of started) {
      await instance.close();
      instance.redis.destroy();
    }
    await op.stop();
  };
  try {
    started.push(await startInstance('A', redisServer, op.issuer, portA, options));
    started.push(await startInstance('B', redisServer, op.issuer, portB, options));
  } catch (err) {
    await close();
    throw err;
  }
  return { op, a: started[0] as Instance, b: started[1] as Instance, close };
}

export const JSON_ACCEPT = { headers: { accept: 'application/json' } };

/** Signs `browser` in through `instance` (its /login and /callback) and checks it landed signed in. */
export async function signInOn(op: TestOP, instance: Instance, browser = new Browser()): Promise<Browser> {
  const landed = await op.signIn(browser, `${instance.url}/login`);
  if (landed.status !== 200 || landed.url !== `${instance.url}/`) throw new Error(`sign-in on ${instance.name} failed: ${landed.status} ${landed.url}`);
  return browser;
}

/** GET `path` as JSON; `body` is the parsed JSON when there is one. */
export async function getJson(browser: Browser, url: string): Promise<{ status: number; url: string; body: Record<string, unknown> | undefined }> {
  const res = await browser.get(url, { ...JSON_ACCEPT, follow: false });
  let body: Record<string, unknown> | undefined;
  try {
    body = JSON.parse(res.body) as Record<string, unknown>;
  } catch {
    body = undefined;
  }
  return { status: res.status, url: res.url, body };
}

/** The session id behind the browser's signed session cookie. */
export function sessionIdOf(browser: Browser, cookieName = 'appSession'): string {
  const cookie = browser.cookies.get(cookieName);
  if (cookie === undefined) throw new Error('no session cookie');
  const value = decodeURIComponent(cookie.value);
  return value.slice(2, value.lastIndexOf('.'));
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Sleeps until the clock passes `epochSeconds` (refuses waits longer than 30 s). */
export async function sleepUntil(epochSeconds: number): Promise<void> {
  const waitMs = epochSeconds * 1000 - Date.now();
  if (waitMs > 30_000) throw new Error(`refusing to wait ${waitMs} ms`);
  if (waitMs > 0) await sleep(waitMs + 50);
}

/** An instance in a child process of its own (see `instance-process.ts`), so it can be killed. */
export interface InstanceProcess {
  readonly url: string;
  readonly pid: number;
  /** sets the child's token endpoint fault */
  setFault(fault: TokenFault): void;
  /** resolves when the child holds a token request (fault 'hold-before' or 'hold-after') */
  held(): Promise<void>;
  /** SIGKILL, resolved once it exited */
  kill(): Promise<void>;
  output(): string;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** Starts an instance process on `port` (reserve its URL with `extraAppURLs`); bounded to 20 s. */
export async function startInstanceProcess(redisServer: RedisServer, issuer: string, port: number, authOptions: AuthOptions = {}): Promise<InstanceProcess> {
  const env: NodeJS.ProcessEnv = { ...process.env, ISSUER: issuer, PORT: String(port), REDIS_URL: redisServer.url, AUTH_OPTIONS: JSON.stringify(authOptions) };
  delete env.NODE_OPTIONS;
  delete env.DEBUG;
  const child = spawn(process.execPath, ['--import', './test/helpers/ts-loader.mjs', 'test/helpers/instance-process.ts'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  children.add(child);
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      children.delete(child);
      resolve();
    }),
  );
  const heldWaiters: Array<() => void> = [];
  let heldCount = 0;
  child.on('message', (message: { event?: string }) => {
    if (message.event === 'held') {
      const waiter = heldWaiters.shift();
      if (waiter === undefined) heldCount += 1;
      else waiter();
    }
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`instance process did not start within 20 s:\n${out}`));
    }, 20_000);
    child.on('message', (message: { event?: string }) => {
      if (message.event === 'ready') {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`instance process exited before it was ready:\n${out}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid as number,
    setFault: (fault) => child.send({ fault }),
    held: () => {
      if (heldCount > 0) {
        heldCount -= 1;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => heldWaiters.push(resolve));
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
    output: () => out,
  };
}
