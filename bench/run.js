/**
 * The express-oidc benchmark (`npm run bench`, after `npm run build`).
 *
 * Starts an OP (oidc-provider), a redis-server and one process per app case,
 * all on 127.0.0.1; signs each app in through the OP; loads every case with
 * autocannon in interleaved rounds; counts the OP requests of one login;
 * watches the heap over many logins and logouts. Prints the results and the
 * targets. Exits non-zero when something fails (a missed target is reported,
 * not a failure).
 *
 * Settings (environment): BENCH_DURATION seconds per run (3), BENCH_WARMUP
 * seconds of warm-up per case (1), BENCH_ROUNDS (4), BENCH_CONNECTIONS (10),
 * BENCH_LOGINS logins and logouts for the heap (10000), BENCH_TIMEOUT seconds
 * for the whole run (420), BENCH_CPU_PROF case keys (e.g. "c,f") whose
 * processes write a V8 CPU profile into BENCH_CPU_PROF_DIR (bench-profiles/).
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { Browser, signIn, signOut } from './browser.js';
import { CASES, LOGIN_APPS } from './cases.js';
import { USER } from './fixtures.js';
import { Child, killAll, stopAll } from './ipc.js';
import { loadRun } from './load.js';
import { startRedis } from './redis.js';
import { fixed, integer, median, megabytes, table, verdict } from './report.js';

const here = path.dirname(fileURLToPath(import.meta.url));

function setting(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}

const settings = {
  duration: setting('BENCH_DURATION', 3),
  warmup: setting('BENCH_WARMUP', 1),
  rounds: Math.round(setting('BENCH_ROUNDS', 4)),
  connections: Math.round(setting('BENCH_CONNECTIONS', 10)),
  logins: Math.round(setting('BENCH_LOGINS', 10_000)),
  timeout: setting('BENCH_TIMEOUT', 420),
  profiled: new Set((process.env.BENCH_CPU_PROF ?? '').split(',').filter(Boolean)),
  profileDir: path.resolve(process.env.BENCH_CPU_PROF_DIR ?? 'bench-profiles'),
};
/**
 * Logins run side by side in the heap phase, and the logins before its first
 * measurement: enough for the JIT to compile the login path, whose code would
 * otherwise count as growth.
 */
const LOGIN_CONCURRENCY = 8;
const LOGIN_WARMUP = 2_000;

const TARGETS = {
  'c/b': 0.95,
  'c/d': 2.0,
  'e/a': 0.95,
  'f/b_redis': 0.95,
};
const RATIOS = [
  ['c/a', 'c', 'a', 'ours / bare Express'],
  ['c/b', 'c', 'b', 'ours / express-session, each with its default store'],
  ['c/d', 'c', 'd', 'ours / express-openid-connect'],
  ['e/a', 'e', 'a', 'ours anonymous / bare Express'],
  ['f/b', 'f', 'b_redis', 'ours / express-session, both on the same Redis'],
];

const log = (...args) => console.error('[bench]', ...args);
let redis;

async function main() {
  const started = Date.now();
  redis = await startRedis();
  const op = await Child.start('OP', path.join(here, 'op.js'));
  const issuer = `http://127.0.0.1:${op.info.port}`;
  log(`OP at ${issuer}, redis-server at ${redis.url}`);

  const apps = await Promise.all(
    [...CASES, ...LOGIN_APPS].map(async (spec) => {
      const execArgv = [];
      if (spec.key === 'logins') execArgv.push('--expose-gc');
      if (settings.profiled.has(spec.key)) execArgv.push('--cpu-prof', `--cpu-prof-dir=${settings.profileDir}`, `--cpu-prof-name=${spec.key}.cpuprofile`);
      const args = [spec.key, issuer, ...(spec.redis ? [redis.url] : [])];
      const child = await Child.start(`app ${spec.key}`, path.join(here, 'app.js'), args, { execArgv });
      return { spec, child, url: `http://127.0.0.1:${child.info.port}` };
    }),
  );
  await op.call('configure', { redirectUris: apps.map((app) => `${app.url}/callback`) });
  const byKey = new Map(apps.map((app) => [app.spec.key, app]));
  const heapAtStart = await byKey.get('logins').child.call('heap');

  // A signed-in session for each app that needs one, and a check that every app answers with the same user.
  for (const app of apps.filter((a) => CASES.includes(a.spec))) {
    if (app.spec.login) {
      const browser = new Browser();
      await signIn(browser, app.url, issuer);
      const value = browser.cookie(app.spec.cookie);
      if (value === undefined) throw new Error(`app ${app.spec.key}: no ${app.spec.cookie} cookie after login`);
      app.cookie = `${app.spec.cookie}=${value}`;
    }
    const res = await fetch(app.url + app.spec.route, { headers: app.cookie === undefined ? {} : { cookie: app.cookie } });
    const body = await res.text();
    if (res.status !== 200 || !isDeepStrictEqual(parseJson(body), USER.claims)) {
      throw new Error(`app ${app.spec.key}: ${app.spec.route} answered ${res.status} ${body.slice(0, 200)}`);
    }
  }
  log('apps signed in');

  const loginCounts = [];
  for (const key of ['logins', 'logins_par']) loginCounts.push(await countLoginRequests(op, byKey.get(key), issuer));

  const runs = new Map(CASES.map((spec) => [spec.key, []]));
  const load = (app, duration) =>
    loadRun(app.child, { url: app.url + app.spec.route, cookie: app.cookie, duration, connections: settings.connections });
  log(`warm-up: ${settings.warmup} s per case`);
  for (const spec of CASES) await load(byKey.get(spec.key), settings.warmup);
  for (let round = 1; round <= settings.rounds; round += 1) {
    log(`round ${round} of ${settings.rounds}`);
    // Every other round runs backwards, so no case always comes first or last.
    const order = round % 2 === 1 ? CASES : [...CASES].reverse();
    for (const spec of order) runs.get(spec.key).push(await load(byKey.get(spec.key), settings.duration));
  }

  const heap = { atStart: heapAtStart, ...(await heapOverLogins(byKey.get('logins'), issuer)) };

  // Stop the apps now, so profiles are written before the report is read.
  await stopAll();
  printReport({ apps, runs, loginCounts, heap, seconds: (Date.now() - started) / 1000 });
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** OP requests an app makes for one login once discovery and the JWKS are cached. */
async function countLoginRequests(op, app, issuer) {
  const warm = new Browser();
  await signIn(warm, app.url, issuer);
  await signOut(warm, app.url);
  await op.call('reset');
  const browser = new Browser();
  await signIn(browser, app.url, issuer);
  const counts = await op.call('counts');
  await signOut(browser, app.url);
  return { title: app.spec.title, counts, target: app.spec.key === 'logins_par' ? 2 : 1 };
}

/** Heap of the app process before and after `settings.logins` logins and logouts. */
async function heapOverLogins(app, issuer) {
  const cycles = async (count) => {
    let left = count;
    const worker = async () => {
      const browser = new Browser();
      while (left > 0) {
        left -= 1;
        await signIn(browser, app.url, issuer);
        await signOut(browser, app.url);
      }
    };
    await Promise.all(Array.from({ length: Math.min(LOGIN_CONCURRENCY, count) }, worker));
  };
  log(`heap: ${LOGIN_WARMUP} logins to warm up, then ${settings.logins}`);
  await cycles(LOGIN_WARMUP);
  const before = await app.child.call('heap');
  const started = Date.now();
  await cycles(settings.logins);
  const seconds = (Date.now() - started) / 1000;
  const after = await app.child.call('heap');
  return { before, after, seconds };
}

function printReport({ apps, runs, loginCounts, heap, seconds }) {
  const out = [];
  const cpus = os.cpus();
  out.push(
    `express-oidc benchmark: node ${process.version}, ${os.platform()} ${os.arch()}, ${cpus.length} x ${cpus[0]?.model.trim() ?? 'CPU'}`,
    `${settings.rounds} interleaved rounds of ${settings.duration} s per case after ${settings.warmup} s of warm-up, ${settings.connections} connections;`,
    'OP, redis-server and every app in a process of its own on 127.0.0.1; autocannon in the runner.',
    'req/s: median over the rounds (each round in brackets); CPU: app process user + system time per request (median).',
    'Ratios: median over the rounds of the ratio within each round; CPU/req (inverse) is the other side\'s CPU per request over this side\'s.',
    '',
  );

  const summary = new Map();
  for (const [key, list] of runs) {
    summary.set(key, {
      requestsPerSecond: median(list.map((r) => r.requestsPerSecond)),
      cpuPerRequest: median(list.map((r) => r.cpuPerRequest)),
      p50: median(list.map((r) => r.p50)),
      p99: median(list.map((r) => r.p99)),
    });
  }
  const caseRows = CASES.map((spec) => {
    const s = summary.get(spec.key);
    const app = apps.find((a) => a.spec === spec);
    return [
      spec.key,
      spec.title,
      integer(s.requestsPerSecond),
      `(${runs.get(spec.key).map((r) => integer(r.requestsPerSecond)).join(', ')})`,
      fixed(s.cpuPerRequest, 1),
      String(s.p50),
      String(s.p99),
      app.cookie === undefined ? '-' : `${app.cookie.length} B`,
    ];
  });
  out.push(...table(
    [['case', 'l'], ['app', 'l'], ['req/s', 'r'], ['rounds', 'l'], ['CPU us/req', 'r'], ['p50 ms', 'r'], ['p99 ms', 'r'], ['cookie', 'r']],
    caseRows,
  ), '');

  const ratioRows = RATIOS.map(([label, x, y, what]) => {
    // Per round, then the median: the two runs of a round are close in time, so a slow
    // stretch of a shared machine weighs on both sides of the ratio.
    const rx = runs.get(x);
    const ry = runs.get(y);
    const ratio = median(rx.map((run, i) => run.requestsPerSecond / ry[i].requestsPerSecond));
    const cpuRatio = median(rx.map((run, i) => ry[i].cpuPerRequest / run.cpuPerRequest));
    const target = TARGETS[`${x}/${y}`];
    return [
      label,
      what,
      fixed(ratio, 3),
      fixed(cpuRatio, 3),
      target === undefined ? '-' : `>= ${fixed(target)}`,
      target === undefined ? '' : verdict(ratio >= target),
    ];
  });
  out.push(...table(
    [['ratio', 'l'], ['compares', 'l'], ['req/s', 'r'], ['CPU/req (inverse)', 'r'], ['target', 'r'], ['', 'l']],
    ratioRows,
  ), '');

  out.push('OP requests sent by the app for one login, warm caches (counted at the OP after a first login):');
  for (const { title, counts, target } of loginCounts) {
    const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
    const detail = Object.entries(counts).map(([p, n]) => `${p} x${n}`).join(', ') || 'none';
    out.push(`  ${title}: ${total} (${detail}); target ${target}: ${verdict(total === target)}`);
  }
  out.push('');

  const growth = (heap.after - heap.before) / heap.before;
  out.push(
    `Heap of the app process over ${integer(settings.logins)} logins and logouts (express-oidc defaults, in-process store):`,
    '  each a real authorization code login through the OP (PKCE, code exchange, ID token validation, new session)',
    `  and a logout (refresh token revoked, session destroyed), ${LOGIN_CONCURRENCY} browsers at a time, in ${fixed(heap.seconds, 1)} s;`,
    `  heap after gc: ${megabytes(heap.atStart)} before any request, ${megabytes(heap.before)} after ${LOGIN_WARMUP} warm-up logins, ${megabytes(heap.after)} after the run`,
    `  (${growth >= 0 ? '+' : ''}${fixed(growth * 100, 1)} %); target within 10 %: ${verdict(Math.abs(growth) <= 0.1)}`,
    '',
    `Total time ${fixed(seconds, 0)} s.`,
  );
  console.log(out.join('\n'));
}

function cleanUpNow() {
  killAll();
  redis?.kill();
}
process.on('exit', cleanUpNow);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    log(`${signal}: stopping`);
    cleanUpNow();
    process.exit(130);
  });
}
const watchdog = setTimeout(() => {
  log(`the benchmark took longer than ${settings.timeout} s; stopping`);
  cleanUpNow();
  process.exit(1);
}, settings.timeout * 1000);
watchdog.unref();

try {
  await main();
} catch (err) {
  console.error('[bench] failed:', err instanceof Error ? err.stack : err);
  process.exitCode = 1;
} finally {
  await stopAll();
  await redis?.stop();
}
