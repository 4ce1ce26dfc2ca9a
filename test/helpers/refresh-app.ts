/**
 * A test OP with short-lived access tokens and refresh-token rotation, and an app whose session
 * store the test can read, with routes that exercise the token API of `req.oidc`.
 */
import type { Express } from 'express';
import type { AuthOptions } from '../../src/index.js';
import { MemoryStore, type OidcSession } from '../../src/session/index.js';
import { Browser } from './browser.js';
import { freePort, startApp, type TestApp } from './app.js';
import { createTestOP, type TestOP, type TestOPOptions } from './op.js';

export const JSON_ACCEPT = { headers: { accept: 'application/json' } };

export interface RefreshSetup {
  op: TestOP;
  app: TestApp;
  /** the app's session store (the library wraps it; reading it shows what is really stored) */
  store: MemoryStore;
  close(): Promise<void>;
}

/** Routes around the token API; each answers JSON and passes errors to the app's error handler. */
export function tokenRoutes(app: Express): void {
  app.get('/at', (req, res) => {
    const at = req.oidc.accessToken;
    res.json(at === undefined ? null : { access_token: at.access_token, token_type: at.token_type, expires_at: at.expires_at, scope: at.scope });
  });
  app.post('/refresh', async (req, res, next) => {
    try {
      const at = req.oidc.accessToken;
      if (at === undefined) throw new Error('no access token in the session');
      const fresh = await at.refresh();
      res.json({ access_token: fresh.access_token, expires_at: fresh.expires_at, scope: fresh.scope });
    } catch (err) {
      next(err);
    }
  });
  app.get('/scoped', async (req, res, next) => {
    try {
      const token = await req.oidc.getAccessToken({ scope: String(req.query.scope) });
      res.json({ access_token: token.access_token, expires_at: token.expires_at, scope: token.scope });
    } catch (err) {
      next(err);
    }
  });
  app.get('/api-token', async (req, res, next) => {
    try {
      const scope = typeof req.query.scope === 'string' ? req.query.scope : undefined;
      const token = await req.oidc.getAccessToken({ audience: String(req.query.audience), ...(scope === undefined ? {} : { scope }) });
      res.json({ access_token: token.access_token, expires_at: token.expires_at, scope: token.scope });
    } catch (err) {
      next(err);
    }
  });
  app.get('/with-params', async (req, res, next) => {
    try {
      const token = await req.oidc.getAccessToken({ tokenEndpointParams: { probe: 'from-getAccessToken' } });
      res.json({ access_token: token.access_token });
    } catch (err) {
      next(err);
    }
  });
  app.get('/userinfo', async (req, res, next) => {
    try {
      res.json(await req.oidc.fetchUserInfo());
    } catch (err) {
      next(err);
    }
  });
}

export async function startRefreshSetup(
  opOptions: TestOPOptions = {},
  appOptions: AuthOptions = {},
  routes?: (app: Express) => void,
  store: MemoryStore = new MemoryStore(),
): Promise<RefreshSetup> {
  const port = await freePort();
  const op = await createTestOP({ appBaseURL: `http://127.0.0.1:${port}`, accessTokenTTL: 3, rotateRefreshTokens: true, ...opOptions });
  let app: TestApp;
  try {
    app = await startApp(op.issuer, port, { session: { store }, ...appOptions }, (express) => {
      tokenRoutes(express);
      routes?.(express);
    });
  } catch (err) {
    await op.stop();
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    op,
    app,
    store,
    // idempotent: a file's afterEach may meet a setup that is already closed
    close() {
      closing ??= (async () => {
        await app.close();
        await op.stop();
        store.close();
      })();
      return closing;
    },
  };
}

export async function signIn(setup: RefreshSetup): Promise<Browser> {
  const browser = new Browser();
  const landed = await setup.op.signIn(browser, `${setup.app.url}/login`);
  if (landed.status !== 200 || landed.url !== `${setup.app.url}/`) throw new Error(`sign-in failed: ${landed.status} ${landed.url}`);
  return browser;
}

/** The session id behind the browser's signed session cookie. */
export function sessionId(browser: Browser): string {
  const cookie = browser.cookies.get('appSession');
  if (cookie === undefined) throw new Error('no session cookie');
  const value = decodeURIComponent(cookie.value);
  return value.slice(2, value.lastIndexOf('.'));
}

/** What the store holds for the browser's session (`oidc` part), read past the app. */
export async function stored(setup: RefreshSetup, browser: Browser): Promise<(OidcSession & Record<string, unknown>) | undefined> {
  const record = await storedRecord(setup, browser);
  return record?.oidc as (OidcSession & Record<string, unknown>) | undefined;
}

/** The whole stored session record of a browser (or of a session id), null when there is none. */
export function storedRecord(setup: RefreshSetup, browserOrSid: Browser | string): Promise<Record<string, unknown> | null> {
  const sid = typeof browserOrSid === 'string' ? browserOrSid : sessionId(browserOrSid);
  return new Promise((resolve, reject) =>
    setup.store.get(sid, (err, value) => (err ? reject(err) : resolve((value ?? null) as Record<string, unknown> | null))),
  );
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Sleeps until the clock reaches `epochSeconds` (bounded: throws if that is far away). */
export async function sleepUntil(epochSeconds: number): Promise<void> {
  const waitMs = epochSeconds * 1000 - Date.now();
  if (waitMs > 30_000) throw new Error(`refusing to wait ${waitMs} ms`);
  if (waitMs > 0) await sleep(waitMs + 20);
}

/** Until the session's access token has expired. */
export function untilExpired(session: OidcSession): Promise<void> {
  if (session.expires_at === undefined) throw new Error('the token has no expiry');
  return sleepUntil(session.expires_at);
}

/** Until the library considers the token due for a refresh (default leeway 60 s, capped at half the lifetime). */
export function untilDue(session: OidcSession, leeway = 60): Promise<void> {
  if (session.expires_at === undefined || session.issued_at === undefined) throw new Error('the token has no expiry');
  return sleepUntil(session.expires_at - Math.min(leeway, Math.floor((session.expires_at - session.issued_at) / 2)));
}

/** Every token value of a session, to check they appear in no error. */
export function tokenValues(...sessions: Array<OidcSession | undefined>): string[] {
  const out: string[] = [];
  for (const s of sessions) {
    for (const value of [s?.access_token, s?.refresh_token, s?.id_token]) if (typeof value === 'string') out.push(value);
  }
  return out;
}

/** Asserts that no secret (or a 16-character piece of it) appears in any of the texts. */
export function expectNoSecrets(texts: unknown[], secrets: string[]): void {
  const rendered = texts.map((t) => (typeof t === 'string' ? t : JSON.stringify(t) ?? String(t)));
  for (const secret of secrets) {
    // the whole value, and for long ones their end and middle (JWTs share their beginning)
    const middle = Math.floor(secret.length / 2);
    const pieces = [secret, ...(secret.length > 32 ? [secret.slice(-16), secret.slice(middle - 8, middle + 8)] : [])];
    for (const text of rendered) for (const piece of pieces) if (text.includes(piece)) throw new Error(`a token value appears in: ${text.slice(0, 200)}`);
  }
}

/** The message, `error`, `errorDescription` and JSON rendering of every error the app handled. */
export function errorTexts(errors: unknown[]): string[] {
  return errors.flatMap((err) => {
    const e = err as { message?: unknown; error?: unknown; errorDescription?: unknown; stack?: unknown };
    return [String(e.message), String(e.error), String(e.errorDescription), String(e.stack), JSON.stringify(err) ?? ''];
  });
}
