import type { RequestContext } from './request-context.js';
import type { ResponseContext } from './response-context.js';

export { RequestContext, type GetAccessTokenOptions } from './request-context.js';
export { ResponseContext } from './response-context.js';
export { AccessToken } from './access-token.js';
export type { UserClaims } from './claims.js';

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
