/**
 * Runs the apps of test/migration/apps: each is written as an
 * express-openid-connect app is (configured by the env vars auth() reads,
 * `export default app`), with only the import changed. The harness sets the
 * env vars for the test OP, imports the app and serves it on 127.0.0.1.
 */
import http from 'node:http';
import type { Express } from 'express';
import { APP_SECRET, freePort } from '../helpers/app.js';
import { clientsFor } from '../helpers/flow.js';
import { createTestOP, TEST_CLIENT_ID, TEST_CLIENT_SECRET, type TestOP, type TestOPOptions } from '../helpers/op.js';

export interface MigrationApp {
  readonly url: string;
  readonly app: Express;
  /** What the app module exports besides the app (stores, recorders...). */
  readonly module: Record<string, unknown>;
  close(): Promise<void>;
}

/** One OP for the apps of a test file; their ports are chosen first, so the OP knows their redirect URIs. */
export async function startOP(appCount: number, options: TestOPOptions = {}): Promise<{ op: TestOP; ports: number[] }> {
  const ports: number[] = [];
  for (let i = 0; i < appCount; i += 1) ports.push(await freePort());
  const op = await createTestOP({ appBaseURL: `http://127.0.0.1:${ports[0]}`, clients: clientsFor(ports.map((p) => `http://127.0.0.1:${p}`)), ...options });
  return { op, ports };
}

const ENV_KEYS = ['ISSUER_BASE_URL', 'BASE_URL', 'CLIENT_ID', 'CLIENT_SECRET', 'SECRET', 'PORT'] as const;

/**
 * Imports `apps/<name>.js` with the env vars an express-openid-connect app is
 * configured by, then serves its default export on `port`. The env vars are
 * restored once the app is built (auth() reads them when called).
 */
export async function startMigrationApp(name: string, op: TestOP, port: number): Promise<MigrationApp> {
  const saved = Object.fromEntries(ENV_KEYS.map((key) => [key, process.env[key]]));
  Object.assign(process.env, {
    ISSUER_BASE_URL: op.issuer,
    BASE_URL: `http://127.0.0.1:${port}`,
    CLIENT_ID: TEST_CLIENT_ID,
    CLIENT_SECRET: TEST_CLIENT_SECRET,
    SECRET: APP_SECRET,
    PORT: String(port),
  });
  let module: Record<string, unknown>;
  try {
    module = (await import(`./apps/${name}.js`)) as Record<string, unknown>;
  } finally {
    for (const key of ENV_KEYS) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  }
  const app = module.default as Express;
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    app,
    module,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
