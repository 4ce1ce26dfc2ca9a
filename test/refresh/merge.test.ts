import { mergeRefreshed } from '../../src/refresh/index.js';
import type { OidcSession } from '../../src/session/index.js';
import type { TokenSet } from '../../src/client/token-set.js';

const session: OidcSession = {
  v: 3,
  id_token: 'old-id-token',
  access_token: 'old-access-token',
  token_type: 'Bearer',
  expires_at: 1_000,
  issued_at: 900,
  refresh_token: 'old-refresh-token',
  scope: 'openid profile offline_access',
  created_at: 100,
  last_seen: 950,
  custom: 'kept',
};

const NOW = 2_000;

test('the session token: new access token, recomputed expiry, new version, other fields kept', () => {
  const tokens: TokenSet = { accessToken: 'new-access-token', tokenType: 'Bearer', expiresIn: 300, expiresAt: NOW + 300, refreshToken: 'new-refresh-token' };
  const next = mergeRefreshed(session, tokens, NOW, true);
  expect(next).toEqual({
    ...session,
    v: 4,
    access_token: 'new-access-token',
    expires_at: NOW + 300,
    issued_at: NOW,
    refresh_token: 'new-refresh-token',
  });
  expect(session.v).toBe(3); // the input is not changed
});

test('no refresh token returned: the old one is kept', () => {
  const next = mergeRefreshed(session, { accessToken: 'a2', tokenType: 'Bearer', expiresAt: NOW + 60 }, NOW, true);
  expect(next.refresh_token).toBe('old-refresh-token');
});

test('no expires_in returned: no expiry is assumed', () => {
  const next = mergeRefreshed(session, { accessToken: 'a2', tokenType: 'Bearer' }, NOW, true);
  expect(next.expires_at).toBeUndefined();
  expect('expires_at' in next).toBe(false);
});

test('a returned ID token and scope replace the old ones; missing ones keep them', () => {
  const withBoth = mergeRefreshed(session, { accessToken: 'a2', tokenType: 'DPoP', idToken: 'new-id-token', scope: 'openid' }, NOW, true);
  expect(withBoth).toMatchObject({ id_token: 'new-id-token', scope: 'openid', token_type: 'DPoP' });
  const withNeither = mergeRefreshed(session, { accessToken: 'a2', tokenType: 'Bearer' }, NOW, true);
  expect(withNeither).toMatchObject({ id_token: 'old-id-token', scope: 'openid profile offline_access' });
});

test('a reduced-scope token: only the rotated refresh token is taken', () => {
  const tokens: TokenSet = { accessToken: 'reduced', tokenType: 'Bearer', expiresAt: NOW + 60, scope: 'openid', idToken: 'reduced-id-token', refreshToken: 'rotated' };
  const next = mergeRefreshed(session, tokens, NOW, false);
  expect(next).toEqual({ ...session, v: 4, refresh_token: 'rotated' });
});
