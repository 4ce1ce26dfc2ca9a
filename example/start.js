/**
 * Runs one of the task examples against the embedded OpenID Provider
 * (example/provider.js): the OP on http://localhost:OP_PORT (3001), the app on
 * http://localhost:PORT (3000). Ctrl-C stops both, letting requests in flight
 * finish first.
 *
 * Environment: PORT (3000), OP_PORT (3001), SECOND_PORT (PORT+2, a second instance),
 * DEBUG=express-oidc:* to watch the library.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { DEMO_USER, startProvider } from './provider.js';

/** How long a stop waits for requests in flight before it closes their connections. */
const STOP_GRACE_MS = 3_000;

/** A port number from the environment, or a clear message and exit. */
export function portOf(name, fallback) {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1 || value > 65_535) {
    console.error(`${name} must be a port number (got "${process.env[name]}")`);
    process.exit(1);
  }
  return value;
}

/** Listens on 127.0.0.1, or explains a busy port (which env var moves it) and exits. */
export async function listenOrExit(server, port, what, envName) {
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  }).catch((err) => {
    console.error(`The ${what} cannot listen on port ${port}: ${err.code ?? err.message}. Set ${envName} to use another one.`);
    process.exit(1);
  });
}

/** Closes a server: no new connections, requests in flight finish (cut after STOP_GRACE_MS). */
export function closeGracefully(server) {
  return new Promise((resolve) => {
    // Keep-alive connections close as soon as they are idle (a browser keeps some open, idle, for long).
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    const cut = setTimeout(() => server.closeAllConnections(), STOP_GRACE_MS);
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(cut);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/**
 * @param {object} example
 * @param {string} example.title one line printed at start
 * @param {(connection: { issuerBaseURL: string, baseURL: string, clientID: string, clientSecret: string, secret: string, audience: string }, instance: number) => import('express').Express | Promise<import('express').Express>} example.createApp
 * @param {1 | 2} [example.instances] how many copies of the app to run (on PORT, and SECOND_PORT, default PORT+2), with one baseURL
 * @param {string} [example.callbackPath] the app's callback route, registered at the OP
 * @param {string[]} [example.grantTypes] the grants the OP lets the app use
 * @param {string[]} [example.routes] paths printed for the user to try
 * @param {() => Promise<void>} [example.onStop] releases what the app holds (e.g. a Redis connection)
 */
export async function runExample({ title, createApp, instances = 1, callbackPath, grantTypes, routes = [], onStop }) {
  const port = portOf('PORT', 3000);
  const opPort = portOf('OP_PORT', 3001);
  const baseURL = `http://localhost:${port}`;
  const connection = {
    issuerBaseURL: `http://localhost:${opPort}`,
    baseURL,
    clientID: 'example-app',
    clientSecret: randomBytes(24).toString('base64url'),
    secret: randomBytes(32).toString('base64url'),
    audience: `${baseURL}/api`,
  };
  const provider = await startProvider({
    ...connection,
    issuer: connection.issuerBaseURL,
    appBaseURL: baseURL,
    accessTokenTTL: 60,
    ...(callbackPath ? { callbackPath } : {}),
    ...(grantTypes ? { grantTypes } : {}),
  }).catch((err) => {
    console.error(`The demo OpenID Provider cannot listen on port ${opPort}: ${err.code ?? err.message}. Set OP_PORT to use another one.`);
    process.exit(1);
  });

  const servers = [];
  for (let i = 0; i < instances; i += 1) {
    const server = http.createServer(await createApp(connection, i + 1));
    // PORT + 1 is OP_PORT's default: the second instance takes PORT + 2 unless told.
    const instancePort = i === 0 ? port : portOf('SECOND_PORT', port + 2);
    await listenOrExit(server, instancePort, i === 0 ? 'app' : `app's second instance`, i === 0 ? 'PORT' : 'SECOND_PORT');
    servers.push(server);
  }
  console.log(title);
  console.log(`OpenID Provider: ${provider.issuer}, user ${DEMO_USER.username} / ${DEMO_USER.password}`);
  for (const [i, server] of servers.entries()) {
    if (i > 0) console.log(`Instance ${i + 1}:      http://localhost:${server.address().port}`);
  }
  for (const route of routes) console.log(`Try:             ${baseURL}${route}`);
  console.log(`Open ${baseURL} in your browser (Ctrl-C stops the example)`);

  let stopping = false;
  const stop = async () => {
    if (stopping) process.exit(1); // a second Ctrl-C does not wait
    stopping = true;
    await Promise.all(servers.map(closeGracefully));
    await provider.close();
    await onStop?.();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}
