import type { NextFunction, Request, Response } from 'express';
import request from 'supertest';
import { auth } from '../../src/index.js';
import { APP_SECRET, loadExpress } from '../helpers/app.js';

// No OP is needed: these requests never leave the anonymous path, except the
// login whose failure (an OP nobody listens on) is what the last test is about.
function options(clientID: string) {
  return {
    issuerBaseURL: 'http://127.0.0.1:9',
    baseURL: 'http://127.0.0.1:3000',
    clientID,
    clientSecret: 'a-client-secret-long-enough-for-the-test-00',
    secret: APP_SECRET,
    authRequired: false,
    httpTimeout: 1_000,
  };
}

function errorHandler(err: { status?: number; code?: string }, _req: Request, res: Response, _next: NextFunction) {
  res.status(err.status ?? 500).json({ code: err.code });
}

test('two auth() instances in one app each give their own req.oidc', async () => {
  const express = await loadExpress();
  const app = express();
  app.use('/one', auth(options('client-one')));
  app.use('/two', auth(options('client-two')));
  app.get(['/one/who', '/two/who'], (req, res) => res.json({ clientID: req.oidc.client.clientID, authenticated: req.oidc.isAuthenticated() }));
  for (const round of [1, 2]) {
    const one = await request(app).get('/one/who');
    const two = await request(app).get('/two/who');
    expect([round, one.body]).toEqual([round, { clientID: 'client-one', authenticated: false }]);
    expect([round, two.body]).toEqual([round, { clientID: 'client-two', authenticated: false }]);
  }
});

test('a sub-app mounted after auth() sees req.oidc and res.oidc', async () => {
  const express = await loadExpress();
  const app = express();
  const sub = express();
  sub.get('/page', (req, res) => res.json({ user: req.oidc.user ?? null, hasLogin: typeof res.oidc.login === 'function' }));
  app.use(auth(options('client-one')));
  app.use('/sub', sub);
  const res = await request(app).get('/sub/page');
  expect(res.status).toBe(200);
  expect(res.body).toEqual({ user: null, hasLogin: true });
});

test('res.oidc.login() failures reach the app error handler', async () => {
  const express = await loadExpress();
  const app = express();
  app.use(auth(options('client-one')));
  app.get('/custom-login', (_req, res) => {
    void res.oidc.login({ returnTo: '/after' });
  });
  app.use(errorHandler);
  const res = await request(app).get('/custom-login');
  expect(res.status).toBeGreaterThanOrEqual(500);
  expect(res.body.code).toMatch(/^ERR_(OP_UNREACHABLE|DISCOVERY_FAILED)$/);
});

test('req.oidc stays assignable, as an own property', async () => {
  const express = await loadExpress();
  const app = express();
  app.use(auth(options('client-one')));
  app.get('/replace', (req, res) => {
    (req as unknown as { oidc: unknown }).oidc = { replaced: true };
    res.json(req.oidc);
  });
  const res = await request(app).get('/replace');
  expect(res.body).toEqual({ replaced: true });
});
