/**
 * A tiny user agent over global fetch for tests that drive an app and the OP over real HTTP.
 *
 * It follows redirects itself (fetch runs with redirect: 'manual') so that it can keep a cookie jar
 * the way a browser does: cookies are scoped by host name WITHOUT the port, so an app on
 * 127.0.0.1:3000 and an OP on 127.0.0.1:4000 share cookies, exactly like in a real browser.
 */

export interface BrowserResponse {
  status: number;
  /** URL of the final response (after the redirects that were followed) */
  url: string;
  headers: Headers;
  body: string;
  /** the URL of every redirect that was followed (the Location targets), in order */
  redirects: string[];
}

export interface Cookie {
  name: string;
  value: string;
  /** host name (no port) for host-only cookies, or the Domain attribute without a leading dot */
  domain: string;
  /** true when the cookie had no Domain attribute: it is then sent to that exact host only */
  hostOnly: boolean;
  path: string;
  /** epoch milliseconds; undefined = session cookie */
  expires?: number | undefined;
  secure: boolean;
  httpOnly: boolean;
  sameSite?: string | undefined;
}

export interface CookieInit {
  name: string;
  value: string;
  /** host name without port; default '127.0.0.1' */
  domain?: string;
  hostOnly?: boolean;
  path?: string;
  expires?: number | undefined;
  secure?: boolean;
  httpOnly?: boolean;
  sameSite?: string | undefined;
}

function domainMatches(cookie: Cookie, host: string): boolean {
  if (cookie.hostOnly) return host === cookie.domain;
  return host === cookie.domain || host.endsWith(`.${cookie.domain}`);
}

// RFC 6265 5.1.4 path-match
function pathMatches(cookiePath: string, requestPath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

// RFC 6265 5.1.4 default-path: the "directory" of the request path
function defaultPath(requestPath: string): string {
  if (!requestPath.startsWith('/')) return '/';
  const lastSlash = requestPath.lastIndexOf('/');
  return lastSlash <= 0 ? '/' : requestPath.slice(0, lastSlash);
}

export class CookieJar {
  private cookies: Cookie[] = [];

  /** The live cookie called `name` (on `host` if given, a host name without port). */
  get(name: string, host?: string): Cookie | undefined {
    return this.all(host).find((cookie) => cookie.name === name);
  }

  /** Adds or replaces a cookie (same name, domain and path replaces). */
  set(init: CookieInit): Cookie {
    const cookie: Cookie = {
      name: init.name,
      value: init.value,
      domain: (init.domain ?? '127.0.0.1').replace(/^\./, '').toLowerCase(),
      hostOnly: init.hostOnly ?? true,
      path: init.path ?? '/',
      expires: init.expires,
      secure: init.secure ?? false,
      httpOnly: init.httpOnly ?? false,
      sameSite: init.sameSite,
    };
    this.remove(cookie.name, cookie.domain, cookie.path);
    this.cookies.push(cookie);
    return cookie;
  }

  /** Deletes every cookie called `name` (only those for `host` if given). */
  delete(name: string, host?: string): void {
    this.cookies = this.cookies.filter(
      (cookie) => !(cookie.name === name && (host === undefined || domainMatches(cookie, host))),
    );
  }

  /** All live cookies, or those that would be sent to `host` (ignoring path and Secure). */
  all(host?: string): Cookie[] {
    this.purgeExpired();
    return this.cookies.filter((cookie) => host === undefined || domainMatches(cookie, host));
  }

  clear(): void {
    this.cookies = [];
  }

  /** The Cookie request header value for a request to `url`, or undefined when there is none. */
  headerFor(url: URL): string | undefined {
    const host = url.hostname.toLowerCase();
    const matching = this.all(host)
      .filter((cookie) => pathMatches(cookie.path, url.pathname || '/'))
      // Secure cookies are never sent over plain http
      .filter((cookie) => !cookie.secure || url.protocol === 'https:')
      // RFC 6265 5.4: longer paths first
      .sort((a, b) => b.path.length - a.path.length);
    if (matching.length === 0) return undefined;
    return matching.map((cookie) => `${cookie.name}=${cookie.value}`).join('; ');
  }

  /** Stores one Set-Cookie header value received in the response to `url`. */
  setFromHeader(header: string, url: URL): void {
    const [pair = '', ...attributes] = header.split(';');
    const eq = pair.indexOf('=');
    if (eq <= 0) return; // nameless cookies are not supported
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    const requestHost = url.hostname.toLowerCase();

    let domain = requestHost;
    let hostOnly = true;
    let path: string | undefined;
    let maxAge: number | undefined;
    let expires: number | undefined;
    let secure = false;
    let httpOnly = false;
    let sameSite: string | undefined;

    for (const attribute of attributes) {
      const i = attribute.indexOf('=');
      const key = (i === -1 ? attribute : attribute.slice(0, i)).trim().toLowerCase();
      const val = i === -1 ? '' : attribute.slice(i + 1).trim();
      switch (key) {
        case 'domain': {
          const d = val.replace(/^\./, '').toLowerCase();
          if (!d) break;
          // a browser rejects a cookie for a domain the response did not come from
          if (requestHost !== d && !requestHost.endsWith(`.${d}`)) return;
          domain = d;
          hostOnly = false;
          break;
        }
        case 'path':
          if (val.startsWith('/')) path = val;
          break;
        case 'max-age':
          if (/^-?\d+$/.test(val)) maxAge = Number(val);
          break;
        case 'expires': {
          const t = Date.parse(val);
          if (!Number.isNaN(t)) expires = t;
          break;
        }
        case 'secure':
          secure = true;
          break;
        case 'httponly':
          httpOnly = true;
          break;
        case 'samesite':
          sameSite = val; // stored only; SameSite is not enforced
          break;
        default:
          break;
      }
    }

    // Max-Age wins over Expires
    if (maxAge !== undefined) expires = maxAge <= 0 ? 0 : Date.now() + maxAge * 1000;
    const cookiePath = path ?? defaultPath(url.pathname);

    this.remove(name, domain, cookiePath);
    // Max-Age=0 / an Expires in the past only delete (done just above)
    if (expires !== undefined && expires <= Date.now()) return;
    this.cookies.push({ name, value, domain, hostOnly, path: cookiePath, expires, secure, httpOnly, sameSite });
  }

  private remove(name: string, domain: string, path: string): void {
    this.cookies = this.cookies.filter((c) => !(c.name === name && c.domain === domain && c.path === path));
  }

  private purgeExpired(): void {
    const now = Date.now();
    this.cookies = this.cookies.filter((cookie) => cookie.expires === undefined || cookie.expires > now);
  }
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 20;

const DEFAULT_HEADERS: Record<string, string> = {
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'user-agent': 'express-oidc-test-browser/1.0',
};

export interface RequestOptions {
  /** follow redirects (default true) */
  follow?: boolean;
  headers?: Record<string, string>;
}

export interface PostOptions extends RequestOptions {
  /** default application/x-www-form-urlencoded */
  contentType?: string;
}

export class Browser {
  readonly cookies = new CookieJar();
  private readonly defaultHeaders: Record<string, string>;
  private readonly fetch: typeof fetch;

  /** `fetch`: another fetch, e.g. one that trusts a test CA for an https OP. */
  constructor(opts: { userAgentHeaders?: Record<string, string>; fetch?: typeof fetch } = {}) {
    this.defaultHeaders = { ...DEFAULT_HEADERS, ...lowerCaseKeys(opts.userAgentHeaders ?? {}) };
    this.fetch = opts.fetch ?? fetch;
  }

  get(url: string, opts: RequestOptions = {}): Promise<BrowserResponse> {
    return this.request('GET', url, undefined, opts);
  }

  post(
    url: string,
    form: Record<string, string> | URLSearchParams | string,
    opts: PostOptions = {},
  ): Promise<BrowserResponse> {
    const body = typeof form === 'string' ? form : new URLSearchParams(form).toString();
    const headers = { 'content-type': opts.contentType ?? 'application/x-www-form-urlencoded', ...lowerCaseKeys(opts.headers ?? {}) };
    return this.request('POST', url, body, { ...opts, headers });
  }

  /**
   * Parses the first <form> of a page (action, method, its input fields) and submits it, like
   * clicking its submit button. Used for response_mode=form_post pages and the OP's forms.
   * `extra` adds or overrides fields (e.g. the value of a submit button that is outside the form).
   */
  submitForm(res: BrowserResponse, extra: Record<string, string> = {}, opts: RequestOptions = {}): Promise<BrowserResponse> {
    const form = parseFirstForm(res.body, res.url);
    if (!form) throw new Error(`no <form> in the page at ${res.url} (status ${res.status})`);
    const fields = new URLSearchParams(form.fields);
    for (const [key, value] of Object.entries(extra)) fields.set(key, value);
    if (form.method === 'GET') {
      const target = new URL(form.action);
      target.search = fields.toString();
      return this.get(target.href, opts);
    }
    return this.post(form.action, fields, opts);
  }

  private async request(
    method: string,
    url: string,
    body: string | undefined,
    opts: RequestOptions,
  ): Promise<BrowserResponse> {
    const follow = opts.follow ?? true;
    const extraHeaders = lowerCaseKeys(opts.headers ?? {});
    const redirects: string[] = [];
    let current = new URL(url);

    for (;;) {
      const headers = new Headers({ ...this.defaultHeaders, ...extraHeaders });
      const cookie = this.cookies.headerFor(current);
      if (cookie) headers.set('cookie', cookie);

      const response = await this.fetch(current, { method, headers, body: body ?? null, redirect: 'manual' });
      for (const setCookie of response.headers.getSetCookie()) this.cookies.setFromHeader(setCookie, current);
      const text = await response.text();
      const location = response.headers.get('location');

      if (!follow || !REDIRECT_STATUSES.has(response.status) || !location) {
        return { status: response.status, url: current.href, headers: response.headers, body: text, redirects };
      }
      if (redirects.length >= MAX_REDIRECTS) {
        throw new Error(`too many redirects (last: ${current.href} -> ${location})`);
      }

      const next = new URL(location, current);
      redirects.push(next.href);
      // 303, and 301/302 after a POST (what browsers actually do), continue as a body-less GET
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
        delete extraHeaders['content-type'];
      }
      current = next;
    }
  }
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([key, value]) => [key.toLowerCase(), value]));
}

export function decodeHtmlEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_match, entity: string) => {
    const lower = entity.toLowerCase();
    if (lower.startsWith('#x')) return String.fromCodePoint(parseInt(lower.slice(2), 16));
    if (lower.startsWith('#')) return String.fromCodePoint(parseInt(lower.slice(1), 10));
    return ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[lower] ?? _match;
  });
}

/** Attributes of an HTML start tag, names lower-cased, values entity-decoded. */
function parseAttributes(tag: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  const re = /([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g;
  // skip the tag name itself
  const inner = tag.replace(/^<\s*[a-z]+/i, '').replace(/\/?>$/, '');
  for (const [, name = '', doubleQuoted, singleQuoted, bare] of inner.matchAll(re)) {
    attributes[name.toLowerCase()] = decodeHtmlEntities(doubleQuoted ?? singleQuoted ?? bare ?? '');
  }
  return attributes;
}

export interface ParsedForm {
  action: string;
  method: 'GET' | 'POST';
  fields: Array<[string, string]>;
}

/**
 * The first <form> of an HTML page: its absolute action URL, method and the values its inputs
 * would submit (text-like and hidden inputs, checked checkboxes/radios, textareas, the first
 * option of selects is NOT handled; submit buttons are not included).
 */
export function parseFirstForm(html: string, pageUrl: string): ParsedForm | undefined {
  const match = /(<form\b[^>]*>)([\s\S]*?)<\/form>/i.exec(html);
  if (!match) return undefined;
  const [, formTag = '', content = ''] = match;
  const attributes = parseAttributes(formTag);
  const action = new URL(attributes.action || pageUrl, pageUrl).href;
  const method = (attributes.method ?? 'get').toUpperCase() === 'POST' ? 'POST' : 'GET';

  const fields: Array<[string, string]> = [];
  for (const [input] of content.matchAll(/<input\b[^>]*>/gi)) {
    const a = parseAttributes(input);
    const type = (a.type ?? 'text').toLowerCase();
    if (!a.name || 'disabled' in a) continue;
    if (['submit', 'button', 'image', 'reset', 'file'].includes(type)) continue;
    if ((type === 'checkbox' || type === 'radio') && !('checked' in a)) continue;
    fields.push([a.name, a.value ?? (type === 'checkbox' || type === 'radio' ? 'on' : '')]);
  }
  for (const [, textareaAttributes = '', text = ''] of content.matchAll(/<textarea\b([^>]*)>([\s\S]*?)<\/textarea>/gi)) {
    const a = parseAttributes(`<textarea ${textareaAttributes}>`);
    if (a.name) fields.push([a.name, decodeHtmlEntities(text)]);
  }
  return { action, method, fields };
}
