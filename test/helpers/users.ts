/** The accounts known to the test OP (re-exported by op.ts). */

export interface TestUser {
  sub: string;
  username: string;
  password: string;
  email: string;
  name: string;
  /** password grants answer mfa_required for this user (browser logins are not affected) */
  mfa?: boolean;
  /** database connection for the password-realm grant; default DEFAULT_REALM */
  realm?: string;
}

/** Auth0's default database connection name */
export const DEFAULT_REALM = 'Username-Password-Authentication';

export const USERS: { alice: TestUser; bob: TestUser } = {
  alice: {
    sub: 'auth0|alice',
    username: 'alice',
    password: 'alice-password-1',
    email: 'alice@example.com',
    name: 'Alice Example',
  },
  bob: {
    sub: 'auth0|bob',
    username: 'bob',
    password: 'bob-password-1',
    email: 'bob@example.com',
    name: 'Bob Example',
    mfa: true,
  },
};

export function findUserBySub(sub: string): TestUser | undefined {
  return Object.values(USERS).find((user) => user.sub === sub);
}

/** Checks a username (or e-mail) and password; `realm` is checked only when given. */
export function checkCredentials(
  username: unknown,
  password: unknown,
  realm?: unknown,
): TestUser | undefined {
  if (typeof username !== 'string' || typeof password !== 'string') return undefined;
  const user = Object.values(USERS).find((u) => u.username === username || u.email === username);
  if (!user || user.password !== password) return undefined;
  if (realm !== undefined && realm !== (user.realm ?? DEFAULT_REALM)) return undefined;
  return user;
}

/** OIDC standard claims of a user, as released for the profile and email scopes. */
export function userClaims(user: TestUser): { sub: string; [claim: string]: unknown } {
  return {
    sub: user.sub,
    name: user.name,
    nickname: user.username,
    preferred_username: user.username,
    email: user.email,
    email_verified: true,
  };
}
