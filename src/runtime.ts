import type { AuthClient } from './client/auth-client.js';
import type { ClientCredentials } from './client/client-credentials.js';
import type { Config } from './config/types.js';
import type { Refresher } from './refresh/index.js';
import type { Sessions } from './session/index.js';
import type { LogoutIndex } from './session/logout-index.js';
import type { TransactionCookies } from './transaction/index.js';

/** Everything one `auth()` instance owns, shared by its routes, context and guards. */
export interface Runtime {
  readonly config: Config;
  readonly client: AuthClient;
  readonly transactions: TransactionCookies;
  readonly sessions: Sessions;
  readonly refresher: Refresher;
  /** Cached machine-to-machine tokens of this client. */
  readonly clientCredentials: ClientCredentials;
  /** Present when back-channel logout is on. */
  readonly logoutIndex: LogoutIndex | undefined;
}

/** Where a request's context keeps its runtime, for the guards (not part of the public API). */
export const RUNTIME: unique symbol = Symbol('express-oidc runtime');
