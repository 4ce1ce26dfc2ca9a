/**
 * Start-up behaviour of the session layer: in production without a store, one warning when
 * auth() is called (and none per request); none with a store or outside production.
 */
import { jest } from '@jest/globals';
import session from 'express-session';
import request from 'supertest';
import { auth, type AuthOptions } from '../../src/index.js';
import { loadExpress } from '../helpers/app.js';

const SECRET = 'a-secret-that-is-at-least-32-characters-long';
const OPTIONS: AuthOptions = {
  issuerBaseURL: 'https://op.example.com',
  baseURL: 'http://localhost:3000',
  clientID: 'client',
  secret: SECRET,
  authRequired: false,
};

let warn: jest.Spied<typeof console.warn>;
const savedEnv = process.env.NODE_ENV;
beforeEach(() => {
  warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
});
afterEach(() => {
  warn.mockRestore();
  process.env.NODE_ENV = savedEnv;
});

test('production without a store: one warning at auth(), none per request', async () => {
  process.env.NODE_ENV = 'production';
  const express = await loadExpress();
  const app = express();
  app.use(auth(OPTIONS));
  app.get('/', (_req, res) => res.send('ok'));
  expect(warn).toHaveBeenCalledTimes(1);
  expect(String(warn.mock.calls[0]?.[0])).toMatch(/session\.store/);
  expect(String(warn.mock.calls[0]?.[0])).not.toContain(SECRET);
  for (let i = 0; i < 3; i += 1) await request(app).get('/').set('Cookie', 'appSession=whatever');
  expect(warn).toHaveBeenCalledTimes(1);
});

test('production with a store: no warning', () => {
  process.env.NODE_ENV = 'production';
  auth({ ...OPTIONS, session: { store: new session.MemoryStore() } });
  expect(warn).not.toHaveBeenCalled();
});

test('outside production: no warning', () => {
  process.env.NODE_ENV = 'development';
  auth(OPTIONS);
  expect(warn).not.toHaveBeenCalled();
});
