/** The accounts known to the test OP (re-exported by op.ts). */

export interface TestUser {
  sub: string;
  username: string;
  password: string;
  email: string;
  name: string;
  /** password grants answer mfa_required for this user (browser logins are not affected) */
  mfa?: boolean;
  /** base32 TOTP secret of the user's authenticator app (the mfa-otp grant checks codes of it) */
  otpSecret?: string;
  /** the user's current recovery code (the mfa-recovery-code grant replaces it) */
  recoveryCode?: string;
  /** password grants with the right password answer this error (a blocked account, ...) */
  passwordError?: { status: number; error: string; error_description: string };
  /** database connection for the password-realm grant; default DEFAULT_REALM */
  realm?: string;
}

/** Auth0's default database connection name */
export const DEFAULT_REALM = 'Username-Password-Authentication';

/** Users the password grant refuses although their password is right, each with one of Auth0's answers. */
const REFUSED = {
  blocked: { status: 429, error: 'too_many_attempts', error_description: 'Your account has been blocked after multiple consecutive login attempts.' },
  suspended: { status: 401, error: 'unauthorized', error_description: 'user is blocked' },
  leaked: { status: 403, error: 'password_leaked', error_description: 'This login attempt has been blocked because the password you are using was previously disclosed.' },
  unassigned: { status: 403, error: 'unauthorized_client', error_description: 'The user is not allowed to sign in to this application.' },
  denied: { status: 403, error: 'access_denied', error_description: 'Access denied by a rule.' },
};

function refusedUser(name: keyof typeof REFUSED): TestUser {
  return {
    sub: `auth0|${name}`,
    username: name,
    password: `${name}-password-1`,
    email: `${name}@example.com`,
    name: `${name[0]?.toUpperCase()}${name.slice(1)} Example`,
    passwordError: REFUSED[name],
  };
}

export const USERS = {
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
    otpSecret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
    recoveryCode: 'BOBRECOVERYCODE00000000001',
  },
  blocked: refusedUser('blocked'),
  suspended: refusedUser('suspended'),
  leaked: refusedUser('leaked'),
  unassigned: refusedUser('unassigned'),
  denied: refusedUser('denied'),
} satisfies Record<string, TestUser>;

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
  const user = Object.values(USERS as Record<string, TestUser>).find((u) => u.username === username || u.email === username);
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
