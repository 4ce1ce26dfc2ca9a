/**
 * The demo sends the usual security headers on its pages: CSP (with frame-ancestors),
 * X-Frame-Options, nosniff and a Referrer-Policy, on pages, error pages and redirects alike.
 */
import { freePort } from '../helpers/app.js';
import { startDemo, type DemoProcess } from './demo-process.js';

let demo: DemoProcess | undefined;

beforeAll(async () => {
  demo = await startDemo({ port: await freePort(), opPort: await freePort(), accessTokenTTL: 60 });
});
afterAll(async () => {
  await demo?.stop();
});

test.each([
  ['the home page', '/', 200],
  ['a page that needs a login (redirect)', '/profile', 302],
  ['an error page (a callback without a login)', '/callback?state=abcdefghijklmnopqrstuvwxyz', 400],
])('%s carries the security headers', async (_label, path, status) => {
  const res = await fetch(`${(demo as DemoProcess).appURL}${path}`, { redirect: 'manual', headers: { accept: 'text/html' } });
  expect(res.status).toBe(status);
  const csp = res.headers.get('content-security-policy') ?? '';
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("script-src 'none'");
  expect(csp).toContain("object-src 'none'");
  expect(csp).toContain("base-uri 'none'");
  expect(res.headers.get('x-frame-options')).toBe('DENY');
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  expect(res.headers.get('referrer-policy')).toBe('no-referrer');
});
