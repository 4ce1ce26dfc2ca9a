/**
 * Discovery is lazy and cached for discoveryCacheMaxAge; a failure is never cached, so an app
 * started before its OP works as soon as the OP is up; an OP that stops answering gives a timely
 * 5xx OidcError (httpTimeout), never a hung request.
 */
import net from 'node:net';
import { Browser } from '../helpers/browser.js';
import { freePort, startApp, type TestApp } from '../helpers/app.js';
import { authorizeUntilCallback, deliver, errorBody, freePorts, whoAmI } from '../helpers/flow.js';
import { createTestOP, USERS, type TestOP } from '../helpers/op.js';

/**
 * A TCP server on 127.0.0.1 that accepts connections and never says a word: an OP that hangs.
 * A real OP cannot be made to do this on purpose, which is why this stand-in exists.
 */
async function silentServer(port = 0): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let count = 0;
  const server = net.createServer((socket) => {
    count += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function setup(opOptions: Parameters<typeof createTestOP>[0] = {}, appOptions: Parameters<typeof startApp>[2] = {}) {
  // Both ports up front: an OP that starts later must not be handed the app's port.
  const [port = 0, opPort = 0] = await freePorts(2);
  const op = await createTestOP({ appBaseURL: `http://127.0.0.1:${port}`, port: opPort, ...opOptions });
  cleanup.push(() => op.stop());
  const app = await startApp(op.issuer, port, appOptions);
  cleanup.push(() => app.close());
  return { op, app };
}

test('discovery is lazy: nothing is fetched until a route needs the OP', async () => {
  const { op, app } = await setup();
  expect(op.counts.discovery).toBe(0);
  await new Browser().get(`${app.url}/`);
  expect(op.counts.discovery).toBe(0);
  await new Browser().get(`${app.url}/login`, { follow: false });
  expect(op.counts.discovery).toBe(1);
});

test('discovery is cached for discoveryCacheMaxAge, then fetched again', async () => {
  const { op, app } = await setup({}, { discoveryCacheMaxAge: 1_000 });
  const browser = new Browser();
  await browser.get(`${app.url}/login`, { follow: false });
  await browser.get(`${app.url}/login`, { follow: false });
  expect(op.counts.discovery).toBe(1);
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  await browser.get(`${app.url}/login`, { follow: false });
  expect(op.counts.discovery).toBe(2);
});

test('an app started before its OP: the first request fails with a clean 5xx, the next one works', async () => {
  const { op, app } = await setup({ autoStart: false });
  const browser = new Browser();
  const down = await browser.get(`${app.url}/login`, { follow: false });
  expect(down.status).toBeGreaterThanOrEqual(500);
  expect(down.status).toBeLessThan(600);
  expect(errorBody(down)?.code).toBe('ERR_OP_UNREACHABLE');
  expect(app.errors).toHaveLength(1);

  await op.start();
  const res = await op.signIn(browser, `${app.url}/login?returnTo=/profile`);
  expect(res.url).toBe(`${app.url}/profile`);
  expect(JSON.parse(res.body).user.sub).toBe(USERS.alice.sub);
});

test('an OP that never answers discovery: a timely 504 each time, and every request tries again', async () => {
  const silent = await silentServer();
  cleanup.push(() => silent.close());
  const port = await freePort();
  const app = await startApp(`http://127.0.0.1:${silent.port}`, port, { httpTimeout: 300 });
  cleanup.push(() => app.close());

  for (let attempt = 1; attempt <= 2; attempt += 1) {
    const res = await new Browser().get(`${app.url}/login`, { follow: false });
    expect(res.status).toBe(504);
    expect(errorBody(res)?.code).toBe('ERR_OP_UNREACHABLE');
    expect(errorBody(res)?.message).toMatch(/did not answer in time/);
  }
  expect(silent.connections()).toBeGreaterThanOrEqual(2);
}, 10_000);

test('an OP that hangs at the token endpoint: a timely 504, nothing stored, and the next login works', async () => {
  const { op, app } = await setup({}, { httpTimeout: 300 });
  const browser = new Browser();
  const delivery = await authorizeUntilCallback(browser, `${app.url}/login`);

  // The same OP address, now held by a server that accepts and never answers.
  await op.stop();
  const silent = await silentServer(op.port);
  const hung = await deliver(browser, delivery);
  expect(hung.status).toBe(504);
  expect(errorBody(hung)?.code).toBe('ERR_OP_UNREACHABLE');
  expect((await whoAmI(browser, app.url)).authenticated).toBe(false);

  await silent.close();
  await op.start();
  const res = await op.signIn(browser, `${app.url}/login?returnTo=/profile`);
  expect(res.url).toBe(`${app.url}/profile`);
}, 10_000);

test('an OP that is down at the callback: a 502, nothing stored', async () => {
  const { op, app } = await setup();
  const browser = new Browser();
  const delivery = await authorizeUntilCallback(browser, `${app.url}/login`);
  await op.stop();
  const res = await deliver(browser, delivery);
  expect(res.status).toBe(502);
  expect(errorBody(res)?.code).toBe('ERR_OP_UNREACHABLE');
  expect((await whoAmI(browser, app.url)).authenticated).toBe(false);
});
