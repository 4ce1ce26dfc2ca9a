/**
 * `npm run demo`: the demo app on http://localhost:3000 and, unless
 * ISSUER_BASE_URL is set, an embedded OpenID Provider on http://localhost:3001.
 *
 * Environment:
 *   PORT (3000), OP_PORT (3001), ACCESS_TOKEN_TTL (30 seconds, embedded OP)
 *   ISSUER_BASE_URL, CLIENT_ID, CLIENT_SECRET: sign in at that OP instead
 *   AUDIENCE: the API identifier to ask access tokens for (external OP)
 *   BASE_URL (http://localhost:PORT), SECRET (random at each start)
 *   DEBUG=express-oidc:* to watch the library at work
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { createDemoApp } from './app.js';

const env = process.env;
/** How long Ctrl-C waits for requests in flight before it closes their connections. */
const STOP_GRACE_MS = 3_000;

function portOf(name, fallback) {
  const value = Number(env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1 || value > 65_535) {
    console.error(`${name} must be a port number (got "${env[name]}")`);
    process.exit(1);
  }
  return value;
}

const port = portOf('PORT', 3000);
const baseURL = (env.BASE_URL ?? `http://localhost:${port}`).replace(/\/+$/, '');
const secret = env.SECRET ?? randomBytes(32).toString('base64url');

let provider;
let connection;
if (env.ISSUER_BASE_URL) {
  const missing = ['CLIENT_ID', 'CLIENT_SECRET'].filter((name) => !env[name]);
  if (missing.length > 0) {
    console.error(`ISSUER_BASE_URL is set, so the demo signs in there; it also needs ${missing.join(' and ')}.`);
    process.exit(1);
  }
  connection = { issuerBaseURL: env.ISSUER_BASE_URL, clientID: env.CLIENT_ID, clientSecret: env.CLIENT_SECRET, audience: env.AUDIENCE };
} else {
  // Loaded only when used: a demo against another OP does not need oidc-provider at all.
  const { startProvider, DEMO_USER } = await import('./provider.js');
  const opPort = portOf('OP_PORT', 3001);
  const accessTokenTTL = Number(env.ACCESS_TOKEN_TTL ?? 30);
  if (!Number.isInteger(accessTokenTTL) || accessTokenTTL < 2) {
    console.error(`ACCESS_TOKEN_TTL must be a whole number of seconds, 2 or more (got "${env.ACCESS_TOKEN_TTL}")`);
    process.exit(1);
  }
  connection = {
    issuerBaseURL: `http://localhost:${opPort}`,
    clientID: 'demo-app',
    clientSecret: randomBytes(24).toString('base64url'),
    audience: `${baseURL}/api`,
  };
  provider = await startProvider({ ...connection, issuer: connection.issuerBaseURL, appBaseURL: baseURL, accessTokenTTL }).catch((err) => {
    console.error(`The demo OpenID Provider cannot listen on port ${opPort}: ${err.code ?? err.message}. Set OP_PORT to use another one.`);
    process.exit(1);
  });
  console.log(`Demo OpenID Provider: ${provider.issuer} (access tokens live ${accessTokenTTL} s)`);
  console.log(`Demo user:            ${DEMO_USER.username} / ${DEMO_USER.password}`);
}

const app = createDemoApp({ ...connection, baseURL, secret });
const server = http.createServer(app);
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, '127.0.0.1', resolve);
}).catch((err) => {
  console.error(`The app cannot listen on port ${port}: ${err.code ?? err.message}. Set PORT to use another one.`);
  process.exit(1);
});
if (!provider) console.log(`Signing in at ${connection.issuerBaseURL} as client ${connection.clientID}`);
console.log(`Open ${baseURL} in your browser (Ctrl-C stops the demo)`);

let stopping = false;
async function stop(signal) {
  if (stopping) process.exit(1); // a second Ctrl-C does not wait
  stopping = true;
  console.log(`\n${signal}: stopping`);
  // No new connections; requests in flight finish (cut after STOP_GRACE_MS); keep-alive
  // connections close as soon as they are idle (a browser keeps some open, idle, for long).
  const closed = new Promise((resolve) => server.close(resolve));
  const sweep = setInterval(() => server.closeIdleConnections(), 50);
  const cut = setTimeout(() => server.closeAllConnections(), STOP_GRACE_MS);
  server.closeIdleConnections();
  await closed;
  clearInterval(sweep);
  clearTimeout(cut);
  await provider?.close();
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
