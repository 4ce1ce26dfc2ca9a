import type { RequestContext } from './request-context.js';
import type { ResponseContext } from './response-context.js';

export { RequestContext, type GetAccessTokenOptions } from './request-context.js';
export { ResponseContext } from './response-context.js';
export { AccessToken, type RefreshParams } from './access-token.js';
export type { IdTokenClaims, UserClaims } from './claims.js';
export type { AccessTokenForConnectionOptions, ConnectionAccessToken } from './connection-tokens.js';
export type {
  CustomTokenExchangeOptions,
  SessionTransferRedirectOptions,
  SessionTransferTokenOptions,
  SessionTransferTokenResult,
} from './token-exchange.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by `auth()`. */
      oidc: RequestContext;
    }
    interface Response {
      /** Set by `auth()`. */
      oidc: ResponseContext;
    }
  }
}
