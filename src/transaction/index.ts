import type { IncomingMessage, ServerResponse } from 'node:http';
import { sign, unsign } from 'cookie-signature';
import { debug } from '../debug.js';
import { OidcError } from '../errors.js';
import type { Config } from '../config/types.js';
import { clearCookie, parseCookies, setCookie, type CookieAttributes } from './cookies.js';

export { parseCookies, setCookie, clearCookie } from './cookies.js';

/** What a login must remember until its callback. */
export interface Transaction {
  state: string;
  nonce: string;
  codeVerifier: string;
  maxAge?: number;
  organization?: string;
  responseMode?: string;
  /** The redirect URI the login sent, when the app chose it (`authorizationParams.redirect_uri`). */
  redirectUri?: string;
  /** App state from `getLoginState` (holds `returnTo`). */
  appState: Record<string, unknown>;
  /** A step-up login: the ID token must prove one of these `acr` values. */
  requiredAcr?: string[];
  /** A `prompt=none` attempt: errors bring the user back anonymous. */
  silent?: boolean;
  /** Epoch seconds. */
  createdAt: number;
}

/** Seconds a login may take from `/login` to `/callback`. */
export const TRANSACTION_TTL = 600;
/** Logins in progress kept per browser; older ones are cleared at the next login. */
export const MAX_OPEN_TRANSACTIONS = 5;
/**
 * Bytes (name and value) one transaction cookie may take. A `returnTo` that
 * does not fit is dropped for the app's root: a deep link is not worth a
 * header that proxies (8 kB) and Node (16 kB) refuse.
 */
export const MAX_TRANSACTION_COOKIE_BYTES = 1_024;
/**
 * Bytes all of a browser's transaction cookies may take together. Every save
 * clears the oldest ones to stay within it, and a request that arrives over it
 * (logins started in parallel each saw only the cookies sent before them) gets
 * its oldest transaction cookies cleared.
 */
export const TRANSACTION_BUDGET_BYTES = 4_096;
const STATE_PATTERN = /^[\w-]{16,128}$/;

const log = debug('transaction');

interface OpenTransaction {
  name: string;
  bytes: number;
  createdAt: number;
}

/** Bytes a cookie takes in the Cookie header (ASCII: names and signed base64url values). */
function cookieBytes(name: string, value: string): number {
  return name.length + 1 + value.length + 2;
}

/**
 * Transactions live in signed cookies, one per login keyed by its `state`, so
 * logins started in two tabs never overwrite each other. Each is read once:
 * `take` clears it whatever the outcome. Their size is bounded per cookie
 * and per browser (see MAX_TRANSACTION_COOKIE_BYTES, TRANSACTION_BUDGET_BYTES).
 */
export class TransactionCookies {
  readonly #prefix: string;
  readonly #secrets: readonly string[];
  readonly #attrs: CookieAttributes;
  readonly #formPostAttrs: CookieAttributes;
  readonly #root: string;

  constructor(config: Config) {
    this.#prefix = `${config.transactionCookie.name}.`;
    this.#secrets = config.secret;
    this.#root = new URL(config.baseURL).href;
    const secure = config.session.cookie.secure;
    this.#attrs = { path: '/', secure, sameSite: config.transactionCookie.sameSite, ...(config.session.cookie.domain ? { domain: config.session.cookie.domain } : {}) };
    // A form_post callback is a cross-site POST: only SameSite=None cookies come along, and None needs Secure.
    this.#formPostAttrs = { ...this.#attrs, sameSite: secure ? 'None' : this.#attrs.sameSite };
  }

  /**
   * Stores a new transaction, and clears the oldest ones beyond
   * MAX_OPEN_TRANSACTIONS or TRANSACTION_BUDGET_BYTES. Refuses a login started
   * by another site's script (a cross-site fetch, not a navigation): it could
   * only be there to fill the browser with cookies.
   */
  save(req: IncomingMessage, res: ServerResponse, tx: Transaction): void {
    if (req.headers['sec-fetch-site'] === 'cross-site' && req.headers['sec-fetch-mode'] !== undefined && req.headers['sec-fetch-mode'] !== 'navigate') {
      throw new OidcError('ERR_CROSS_SITE_REQUEST', 'a login starts with a top-level navigation, not a cross-site fetch', { status: 403 });
    }
    const name = this.#prefix + tx.state;
    let value = this.#encode(tx);
    if (cookieBytes(name, value) > MAX_TRANSACTION_COOKIE_BYTES && tx.appState.returnTo !== this.#root) {
      log('returnTo too long for a transaction cookie: the login returns to the app root');
      tx = { ...tx, appState: { ...tx.appState, returnTo: this.#root } };
      value = this.#encode(tx);
    }
    const bytes = cookieBytes(name, value);
    if (bytes > MAX_TRANSACTION_COOKIE_BYTES) {
      throw new OidcError('ERR_CONFIG_INVALID', `the login state (getLoginState) does not fit in a transaction cookie (${MAX_TRANSACTION_COOKIE_BYTES} bytes at most)`, { status: 500 });
    }
    const open = this.#open(parseCookies(req));
    let total = open.reduce((sum, t) => sum + t.bytes, 0) + bytes;
    let kept = open.length + 1;
    for (const stale of open) {
      if (kept <= MAX_OPEN_TRANSACTIONS && total <= TRANSACTION_BUDGET_BYTES) break;
      clearCookie(res, stale.name, this.#attrs);
      total -= stale.bytes;
      kept -= 1;
    }
    setCookie(res, name, value, { ...this.#attrsFor(tx), maxAge: TRANSACTION_TTL });
  }

  /**
   * The way out of a cookie bomb: when the browser's transaction cookies
   * together exceed TRANSACTION_BUDGET_BYTES, the oldest are cleared until
   * they fit. Costs one length check on requests with a small Cookie header,
   * and no signature check unless the transaction cookies are over budget.
   */
  prune(req: IncomingMessage, res: ServerResponse): void {
    const header = req.headers.cookie;
    if (header === undefined || header.length <= TRANSACTION_BUDGET_BYTES) return;
    const cookies = parseCookies(req);
    let total = 0;
    for (const [name, raw] of cookies) if (name.startsWith(this.#prefix)) total += cookieBytes(name, raw);
    if (total <= TRANSACTION_BUDGET_BYTES) return;
    for (const stale of this.#open(cookies)) {
      if (total <= TRANSACTION_BUDGET_BYTES) break;
      log('transaction cookies over budget: clearing the oldest');
      clearCookie(res, stale.name, this.#attrs);
      total -= stale.bytes;
    }
  }

  /**
   * Reads and clears the transaction of `state`. Throws ERR_TRANSACTION_MISSING
   * when the browser holds no login at all, ERR_STATE_MISMATCH when it holds
   * others (a tampered or foreign state), ERR_TRANSACTION_INVALID when the
   * cookie is forged or expired.
   */
  take(req: IncomingMessage, res: ServerResponse, state: string): Transaction {
    const cookies = parseCookies(req);
    const name = this.#prefix + state;
    const raw = STATE_PATTERN.test(state) ? cookies.get(name) : undefined;
    if (raw === undefined) {
      const anyOpen = [...cookies.keys()].some((n) => n.startsWith(this.#prefix));
      throw anyOpen
        ? new OidcError('ERR_STATE_MISMATCH', 'state does not match any login in progress')
        : new OidcError('ERR_TRANSACTION_MISSING', 'no login in progress (transaction cookie missing)');
    }
    clearCookie(res, name, this.#attrs);
    const tx = this.#verify(raw);
    if (tx === undefined || tx.state !== state) {
      throw new OidcError('ERR_TRANSACTION_INVALID', 'transaction cookie is invalid');
    }
    if (Math.floor(Date.now() / 1000) - tx.createdAt > TRANSACTION_TTL) {
      throw new OidcError('ERR_TRANSACTION_INVALID', 'login took too long (transaction expired)');
    }
    // A form_post login wrote its cookie with other attributes; clear that one too.
    if (tx.responseMode === 'form_post') clearCookie(res, name, this.#formPostAttrs);
    return tx;
  }

  #encode(tx: Transaction): string {
    return sign(Buffer.from(JSON.stringify(tx)).toString('base64url'), this.#secrets[0] as string);
  }

  #attrsFor(tx: Transaction): CookieAttributes {
    return tx.responseMode === 'form_post' ? this.#formPostAttrs : this.#attrs;
  }

  #verify(raw: string): Transaction | undefined {
    for (const secret of this.#secrets) {
      const payload = unsign(raw, secret);
      if (payload === false) continue;
      try {
        const tx = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Transaction;
        // Every other JSON value has no string state (reading null's throws, refused below).
        return typeof tx.state === 'string' ? tx : undefined;
      } catch {
        return undefined;
      }
    }
    return undefined;
  }

  /** Open transactions among the browser's cookies (forged or expired ones first), oldest first. */
  #open(cookies: Map<string, string>): OpenTransaction[] {
    const open: OpenTransaction[] = [];
    for (const [name, raw] of cookies) {
      if (!name.startsWith(this.#prefix)) continue;
      open.push({ name, bytes: cookieBytes(name, raw), createdAt: this.#verify(raw)?.createdAt ?? 0 });
    }
    return open.sort((a, b) => a.createdAt - b.createdAt);
  }
}
