/**
 * One app under test, in its own process: `node bench/app.js <case> <issuer> [redisUrl]`.
 * It listens on a free port of 127.0.0.1, then builds the case's app for that
 * base URL and sends { type: 'ready', port }. run.js then asks it for
 *   { type: 'cpu' }   process.cpuUsage() (microseconds, user + system)
 *   { type: 'heap' }  heap in use after a full collection (needs --expose-gc)
 *   { type: 'stop' }  closes the server; the process exits.
 */
import http from 'node:http';
import { CASES, LOGIN_APPS } from './cases.js';
import { serveParent } from './ipc.js';

const [key, issuer, redisUrl] = process.argv.slice(2);
const spec = [...CASES, ...LOGIN_APPS].find((c) => c.key === key);
if (spec === undefined || issuer === undefined) throw new Error(`usage: app.js <case> <issuer> [redisUrl]; unknown case "${key}"`);

let app;
const server = http.createServer((req, res) => app(req, res));
server.keepAliveTimeout = 30_000;
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
const baseURL = `http://127.0.0.1:${port}`;
app = await spec.build({ issuer, baseURL, redisUrl });
// Errors answer 500 with their code only: a failing login must be visible to run.js, never hang.
app.use((err, _req, res, _next) => {
  console.error(`app ${key}:`, err.code ?? '', err.message);
  res.status(err.status ?? 500).json({ error: err.code ?? 'error' });
});

serveParent({
  cpu: () => {
    const { user, system } = process.cpuUsage();
    return user + system;
  },
  heap: () => {
    if (typeof globalThis.gc !== 'function') throw new Error('start this process with --expose-gc');
    // Twice: the first collection can leave objects that only the second one finds unreachable.
    globalThis.gc();
    globalThis.gc();
    return process.memoryUsage().heapUsed;
  },
  stop: () => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }),
}, { port });
