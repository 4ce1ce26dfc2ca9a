import { AuthClient } from '../../src/client/auth-client.js';
import { getConfig } from '../../src/config/index.js';
import { Refresher } from '../../src/refresh/index.js';
import type { OidcSession } from '../../src/session/index.js';

function refresher(options: { refreshLeeway?: number } = {}): Refresher {
  const config = getConfig({
    issuerBaseURL: 'http://127.0.0.1:9',
    baseURL: 'http://127.0.0.1:3000',
    clientID: 'client',
    clientSecret: 'client-secret',
    secret: 'a-secret-that-is-at-least-32-characters-long',
    ...options,
  });
  return new Refresher(config, new AuthClient({ issuerBaseURL: config.issuerBaseURL, clientID: config.clientID }));
}

const NOW = 1_000_000;
function tokens(issuedAgo: number, lifetime: number | undefined, extra: Partial<OidcSession> = {}): OidcSession {
  return {
    v: 1,
    id_token: 'x',
    access_token: 'a',
    refresh_token: 'r',
    issued_at: NOW - issuedAgo,
    ...(lifetime === undefined ? {} : { expires_at: NOW - issuedAgo + lifetime }),
    created_at: NOW - issuedAgo,
    last_seen: NOW,
    ...extra,
  };
}

test('an hour-long token is due 60 s (the default leeway) before it expires', () => {
  const r = refresher();
  expect(r.needsRefresh(tokens(3600 - 61, 3600), NOW)).toBe(false);
  expect(r.needsRefresh(tokens(3600 - 60, 3600), NOW)).toBe(true);
  expect(r.needsRefresh(tokens(4000, 3600), NOW)).toBe(true);
});

test('refreshLeeway changes when a token is due', () => {
  const r = refresher({ refreshLeeway: 300 });
  expect(r.needsRefresh(tokens(3600 - 301, 3600), NOW)).toBe(false);
  expect(r.needsRefresh(tokens(3600 - 300, 3600), NOW)).toBe(true);
  const atExpiry = refresher({ refreshLeeway: 0 });
  expect(atExpiry.needsRefresh(tokens(3599, 3600), NOW)).toBe(false);
  expect(atExpiry.needsRefresh(tokens(3600, 3600), NOW)).toBe(true);
});

test('a token shorter than twice the leeway is due after half its lifetime, not at once', () => {
  const r = refresher();
  expect(r.needsRefresh(tokens(0, 30), NOW)).toBe(false);
  expect(r.needsRefresh(tokens(14, 30), NOW)).toBe(false);
  expect(r.needsRefresh(tokens(15, 30), NOW)).toBe(true);
});

test('without an expiry the token is never due; without issued_at the full leeway applies', () => {
  const r = refresher();
  expect(r.needsRefresh(tokens(10_000, undefined), NOW)).toBe(false);
  // 100 s token issued 45 s ago: half its lifetime (50 s) is not reached, the full 60 s leeway is.
  expect(r.needsRefresh(tokens(45, 100), NOW)).toBe(false);
  const noIssuedAt = tokens(45, 100);
  delete noIssuedAt.issued_at;
  expect(r.needsRefresh(noIssuedAt, NOW)).toBe(true);
});

test('a session with a refresh token but no access token is due', () => {
  const r = refresher();
  const s = tokens(0, 3600);
  delete s.access_token;
  expect(r.needsRefresh(s, NOW)).toBe(true);
  delete s.refresh_token;
  expect(r.needsRefresh(s, NOW)).toBe(false);
});
