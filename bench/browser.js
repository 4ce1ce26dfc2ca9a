/**
 * A minimal user agent for the benchmark: a cookie jar for 127.0.0.1 (like a
 * browser, cookies ignore the port, so the apps and the OP share it), and a
 * login that drives the OP's form the way a user would.
 */
import { BROWSER_USER_AGENT, USER } from './fixtures.js';

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export class Browser {
  /** `${name};${path}` -> { name, value, path, expires } */
  #cookies = new Map();

  /** The value of the cookie `name`, if the jar has it. */
  cookie(name) {
    for (const cookie of this.#live()) if (cookie.name === name) return cookie.value;
    return undefined;
  }

  /**
   * GET (or POST a form to) `url`, following redirects while `follow(nextUrl)`
   * says so. Resolves with { status, url, location, body } of the last response.
   */
  async request(url, { form, follow = () => false } = {}) {
    let method = form === undefined ? 'GET' : 'POST';
    let body = form === undefined ? undefined : new URLSearchParams(form).toString();
    let current = new URL(url);
    for (let hop = 0; hop < 20; hop += 1) {
      const headers = { 'user-agent': BROWSER_USER_AGENT, accept: 'text/html' };
      const cookie = this.#header(current);
      if (cookie !== undefined) headers.cookie = cookie;
      if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
      const response = await fetch(current, { method, headers, body, redirect: 'manual' });
      for (const line of response.headers.getSetCookie()) this.#store(line, current);
      const text = await response.text();
      const location = response.headers.get('location');
      const next = location === null ? undefined : new URL(location, current);
      if (!REDIRECTS.has(response.status) || next === undefined || !follow(next)) {
        return { status: response.status, url: current.href, location: next?.href, body: text };
      }
      if (response.status !== 307 && response.status !== 308) {
        method = 'GET';
        body = undefined;
      }
      current = next;
    }
    throw new Error(`too many redirects from ${url}`);
  }

  *#live() {
    const now = Date.now();
    for (const [key, cookie] of this.#cookies) {
      if (cookie.expires !== undefined && cookie.expires <= now) this.#cookies.delete(key);
      else yield cookie;
    }
  }

  #header(url) {
    const pairs = [];
    for (const cookie of this.#live()) {
      const path = url.pathname;
      if (path === cookie.path || (path.startsWith(cookie.path) && (cookie.path.endsWith('/') || path[cookie.path.length] === '/'))) {
        pairs.push(`${cookie.name}=${cookie.value}`);
      }
    }
    return pairs.length === 0 ? undefined : pairs.join('; ');
  }

  #store(line, url) {
    const [pair = '', ...attributes] = line.split(';');
    const eq = pair.indexOf('=');
    if (eq <= 0) return;
    const cookie = { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), path: url.pathname.replace(/\/[^/]*$/, '') || '/', expires: undefined };
    for (const attribute of attributes) {
      const [name = '', value = ''] = attribute.split('=').map((s) => s.trim());
      const lower = name.toLowerCase();
      if (lower === 'path' && value.startsWith('/')) cookie.path = value;
      else if (lower === 'max-age' && /^-?\d+$/.test(value)) cookie.expires = Date.now() + Number(value) * 1000;
      else if (lower === 'expires' && cookie.expires === undefined && !Number.isNaN(Date.parse(value))) cookie.expires = Date.parse(value);
    }
    const key = `${cookie.name};${cookie.path}`;
    if (cookie.expires !== undefined && cookie.expires <= Date.now()) this.#cookies.delete(key);
    else this.#cookies.set(key, cookie);
  }
}

/**
 * Logs `browser` in to the app at `appURL` through the OP at `issuer`: the
 * app's `/login`, the OP's login form (when the OP has no session for this
 * browser yet), back to the app's `/callback`. Resolves once the app answered
 * the callback with its redirect; throws when the login did not finish.
 */
export async function signIn(browser, appURL, issuer) {
  const opOrigin = new URL(issuer).origin;
  // Follow the OP's redirects and the one back to the callback; stop at the app's redirect after it.
  const follow = (next) => next.origin === opOrigin || next.pathname === '/callback';
  let res = await browser.request(`${appURL}/login`, { follow });
  for (let attempt = 0; attempt < 2 && new URL(res.url).origin === opOrigin; attempt += 1) {
    const action = /<form[^>]*action="([^"]+)"/.exec(res.body)?.[1];
    if (res.status !== 200 || action === undefined) break;
    res = await browser.request(new URL(action, res.url).href, { form: { username: USER.username, password: USER.password }, follow });
  }
  const done = new URL(res.url).pathname === '/callback' && REDIRECTS.has(res.status) && res.location !== undefined && new URL(res.location).origin !== opOrigin;
  if (!done) throw new Error(`login to ${appURL} did not finish: ${res.status} at ${res.url}: ${res.body.slice(0, 200)}`);
}

/** Logs `browser` out of the app at `appURL` (its `/logout` route). */
export async function signOut(browser, appURL) {
  const res = await browser.request(`${appURL}/logout`);
  if (!REDIRECTS.has(res.status)) throw new Error(`logout from ${appURL} failed: ${res.status} ${res.body.slice(0, 200)}`);
}
