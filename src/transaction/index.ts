import type { IncomingMessage, ServerResponse } from 'node:http';
import { sign, unsign } from 'cookie-signature';
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
/** Larger values are refused: cookies over ~4 kB are dropped by browsers. */
const MAX_COOKIE_VALUE = 3_500;
const STATE_PATTERN = /^[\w-]{16,128}$/;

/**
 * Transactions live in signed cookies, one per login keyed by its `state`, so
 * logins started in two tabs never overwrite each other. Each is read once:
 * `take` clears it whatever the outcome.
 */
export class TransactionCookies {
  readonly #prefix: string;
  readonly #secrets: readonly string[];
  readonly #attrs: CookieAttributes;
  readonly #formPostAttrs: CookieAttributes;

  constructor(config: Config) {
    this.#prefix = `${config.transactionCookie.name}.`;
    this.#secrets = config.secret;
    const secure = config.session.cookie.secure;
    this.#attrs = { path: '/', secure, sameSite: config.transactionCookie.sameSite, ...(config.session.cookie.domain ? { domain: config.session.cookie.domain } : {}) };
    // A form_post callback is a cross-site POST: only SameSite=None cookies come along, and None needs Secure.
    this.#formPostAttrs = { ...this.#attrs, sameSite: secure ? 'None' : this.#attrs.sameSite };
  }

  /** Stores a new transaction and clears the oldest ones beyond the limit. */
  save(req: IncomingMessage, res: ServerResponse, tx: Transaction): void {
    const value = sign(Buffer.from(JSON.stringify(tx)).toString('base64url'), this.#secrets[0] as string);
    if (value.length > MAX_COOKIE_VALUE) {
      throw new OidcError('ERR_BAD_REQUEST', 'login state too large to carry through the login', { status: 400 });
    }
    const open = this.#open(req);
    for (const stale of open.slice(0, Math.max(0, open.length - (MAX_OPEN_TRANSACTIONS - 1)))) {
      clearCookie(res, stale.name, this.#attrs);
    }
    setCookie(res, this.#prefix + tx.state, value, { ...this.#attrsFor(tx), maxAge: TRANSACTION_TTL });
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
        ? new OidcError('ERR_STATE_MISMATCH', 'state does not match any login in progress', { status: 400 })
        : new OidcError('ERR_TRANSACTION_MISSING', 'no login in progress (transaction cookie missing)', { status: 400 });
    }
    clearCookie(res, name, this.#attrs);
    const tx = this.#verify(raw);
    if (tx === undefined || tx.state !== state) {
      throw new OidcError('ERR_TRANSACTION_INVALID', 'transaction cookie is invalid', { status: 400 });
    }
    if (Math.floor(Date.now() / 1000) - tx.createdAt > TRANSACTION_TTL) {
      throw new OidcError('ERR_TRANSACTION_INVALID', 'login took too long (transaction expired)', { status: 400 });
    }
    // A form_post login wrote its cookie with other attributes; clear that one too.
    if (tx.responseMode === 'form_post') clearCookie(res, name, this.#formPostAttrs);
    return tx;
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
        return typeof tx === 'object' && tx !== null && typeof tx.state === 'string' ? tx : undefined;
      } catch {
        return undefined;
      }
    }
    return undefined;
  }

  /** Open transactions of this browser, oldest first. */
  #open(req: IncomingMessage): Array<{ name: string; createdAt: number }> {
    const open: Array<{ name: string; createdAt: number }> = [];
    for (const [name, raw] of parseCookies(req)) {
      if (!name.startsWith(this.#prefix)) continue;
      open.push({ name, createdAt: this.#verify(raw)?.createdAt ?? 0 });
    }
    return open.sort((a, b) => a.createdAt - b.createdAt);
  }
}
