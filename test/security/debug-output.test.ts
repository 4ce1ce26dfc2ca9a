/**
 * `DEBUG=*` turns on the loggers of Express's router and express-session too. The router prints
 * `req.originalUrl` for every layer it passes a request to, so a failed `/callback` used to print
 * the authorization code again for the app's error handler. Once the callback has read the code,
 * the layers after the library's see the path alone. (The router's first lines, printed before
 * the library runs, cannot be helped: the docs recommend `DEBUG=express-oidc:*`.)
 */
process.env.DEBUG = '*';
process.env.DEBUG_COLORS = 'no';

const output: string[] = [];
const realWrite = process.stderr.write.bind(process.stderr);
let capturing = false;
process.stderr.write = ((chunk: unknown, ...rest: unknown[]) => {
  if (capturing) return output.push(String(chunk)) > 0;
  return (realWrite as (...args: unknown[]) => boolean)(chunk, ...rest);
}) as typeof process.stderr.write;

const { Browser } = await import('../helpers/browser.js');
const { freePort, startApp } = await import('../helpers/app.js');
const { authorizeUntilCallback, paramsOf } = await import('../helpers/flow.js');
const { createTestOP } = await import('../helpers/op.js');

let op: Awaited<ReturnType<typeof createTestOP>>;
let app: Awaited<ReturnType<typeof startApp>>;

beforeAll(async () => {
  const port = await freePort();
  op = await createTestOP({ appBaseURL: `http://127.0.0.1:${port}` });
  app = await startApp(op.issuer, port);
});
afterAll(async () => {
  process.stderr.write = realWrite;
  await app?.close();
  await op?.stop();
});

/** The router's per-layer lines (`<layer name> <path> : <originalUrl>`) of a request to /callback. */
function layerLines(lines: string[]): string[] {
  return lines.flatMap((chunk) => chunk.split('\n')).filter((line) => / : \/callback/.test(line));
}

test('a failed callback: the router lines after the library, the error handler among them, carry no code', async () => {
  const browser = new Browser();
  const delivery = await authorizeUntilCallback(browser, `${app.url}/login`);
  const params = paramsOf(delivery);
  const code = params.get('code') as string;
  expect(code.length).toBeGreaterThan(10);
  // A repeated parameter: refused as bad input, so the error goes on to the app's error handler.
  const url = new URL(delivery.url);
  url.search = `${params.toString()}&state=another-state-of-the-attacker`;

  output.length = 0;
  capturing = true;
  try {
    const res = await browser.get(url.href);
    expect(res.status).toBe(400);
  } finally {
    capturing = false;
  }

  const lines = layerLines(output);
  const ours = lines.findIndex((line) => /\bmiddleware +\S* *: \/callback/.test(line));
  // The capture works: the router printed the layers, the library's included, with the code up to it.
  expect(ours).toBeGreaterThanOrEqual(0);
  expect(lines[ours]).toContain(code);
  const after = lines.slice(ours + 1);
  expect(after.length).toBeGreaterThan(0);
  for (const line of after) expect(line).not.toContain(code);
  // And nothing of the library's own logger ever holds it.
  for (const line of output.join('').split('\n').filter((l) => l.includes('express-oidc:'))) expect(line).not.toContain(code);
});
