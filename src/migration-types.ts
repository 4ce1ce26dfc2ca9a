/**
 * The type names express-openid-connect apps import, as aliases of this
 * library's own types, so a TypeScript app moves over by changing its import.
 * Where the concept is the same the alias is exact; where the shape differs
 * (the store payload, `unknown` in place of `any`) the TSDoc says how.
 */
import type { Request, Response } from 'express';
import type { SessionData, Store } from 'express-session';
import type { AuthOptions, AuthorizationParams, SessionCookieOptions, SessionOptions, SessionTokens } from './config/types.js';

/** `auth()` options: the same as `AuthOptions`. */
export type ConfigParams = AuthOptions;

/** `session` options: the same as `SessionOptions`. */
export type SessionConfigParams = SessionOptions;

/** `session.cookie` options: the same as `SessionCookieOptions` (`sameSite` is `'Lax' | 'Strict' | 'None'`). */
export type CookieConfigParams = SessionCookieOptions;

/** Authorization endpoint parameters: the same as `AuthorizationParams`. */
export type AuthorizationParameters = AuthorizationParams;

/**
 * What `afterCallback` receives and returns: the same as `SessionTokens`
 * (`expires_at` is epoch seconds as a number; extra keys are `unknown`).
 */
export type Session = SessionTokens;

/**
 * A session store: any express-session store. The type parameter is accepted
 * for old code and not used: stores hold express-session's `SessionData`.
 */
// eslint-disable-next-line @typescript-eslint/no-unused-vars
export type SessionStore<_Data = Session> = Store;

/**
 * What a session store holds for a session: express-session's `SessionData`,
 * the tokens under `oidc` (there is no `header` / `data` envelope).
 */
// eslint-disable-next-line @typescript-eslint/no-unused-vars
export type SessionStorePayload<_Data = Session> = SessionData;

/** Express's `Request`, which `auth()` extends with `req.oidc`. */
export type OpenidRequest = Request;

/** Express's `Response`, which `auth()` extends with `res.oidc`. */
export type OpenidResponse = Response;

/** Extra token endpoint parameters (numbers and booleans are sent as text; null leaves one out). */
export type TokenParameters = Record<string, unknown>;
