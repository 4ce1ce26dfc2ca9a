/**
 * Starts an Express app using the library on 127.0.0.1, for flow tests.
 * EXPRESS_MAJOR=4 runs the same tests against Express 4.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express, NextFunction, Request, RequestHandler, Response } from 'express';
import { auth, requiresAuth, type AuthOptions } from '../../src/index.js';

export const APP_SECRET = 'a-test-secret-that-is-at-least-32-characters';

export async function loadExpress(): Promise<typeof import('express')> {
  const mod = process.env.EXPRESS_MAJOR === '4' ? await import('express4') : await import('express');
  return (mod.default ?? mod) as unknown as typeof import('express');
}

/** A port that was free a moment ago, for apps whose URL the OP must know first. */
export async function freePort(): Promise<number> {
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/**
 * A free port, held (listened on) until `release()`: for a server started later in another
 * process, so that the servers this process starts meanwhile on free ports cannot be given it.
 */
export async function reservePort(): Promise<{ port: number; release(): Promise<void> }> {
  const holder = http.createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const { port } = holder.address() as AddressInfo;
  return { port, release: () => new Promise<void>((resolve) => holder.close(() => resolve())) };
}

export interface TestApp {
  url: string;
  app: Express;
  middleware: ReturnType<typeof auth>;
  errors: unknown[];
  close(): Promise<void>;
}

/**
 * An app with `auth()` and a few routes: `/` (public status), `/profile`
 * (requiresAuth), `/token` (getAccessToken), and a JSON error handler that
 * shows `code`, `status`, `error` of our errors.
 */
export async function startApp(
  issuer: string,
  port: number,
  options: AuthOptions = {},
  routes?: (app: Express) => void,
  /** Middleware mounted before `auth()` (body parsers, an app's own express-session...). */
  before: RequestHandler[] = [],
): Promise<TestApp> {
  const express = await loadExpress();
  const app = express();
  const errors: unknown[] = [];
  const middleware = auth({
    issuerBaseURL: issuer,
    baseURL: `http://127.0.0.1:${port}`,
    clientID: 'test-client',
    clientSecret: 'test-client-secret-that-is-long-enough-000',
    secret: APP_SECRET,
    authRequired: false,
    authorizationParams: { scope: 'openid profile email offline_access' },
    jwksCooldown: 0,
    ...options,
  });
  for (const handler of before) app.use(handler);
  app.use(middleware);
  app.get('/', (req, res) => {
    res.json({ authenticated: req.oidc.isAuthenticated(), user: req.oidc.user ?? null });
  });
  app.get('/profile', requiresAuth(), (req, res) => {
    res.json({ user: req.oidc.user, tokenType: req.oidc.accessToken?.token_type, expiresIn: req.oidc.accessToken?.expires_in });
  });
  app.get('/token', async (req, res, next) => {
    try {
      const token = await req.oidc.getAccessToken();
      res.json({ access_token: token.access_token, token_type: token.token_type, expires_in: token.expires_in });
    } catch (err) {
      next(err);
    }
  });
  routes?.(app);
  app.use((err: { status?: number; code?: string; error?: string; message?: string }, _req: Request, res: Response, _next: NextFunction) => {
    errors.push(err);
    res.status(err.status ?? 500).json({ code: err.code, error: err.error, message: err.message });
  });
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    app,
    middleware,
    errors,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
