import { inspect } from 'node:util';
import { nonEmptyString, paramStrings } from '../config/params.js';
import { OidcError } from '../errors.js';
import type { AccessTokenData, RefreshOptions } from '../refresh/index.js';
import { nowSeconds } from '../session/data.js';

/** Options of `req.oidc.accessToken.refresh()`. */
export interface RefreshParams {
  /**
   * Extra token endpoint parameters for this refresh, over the configured
   * `tokenEndpointParams`. Numbers and booleans are sent as text; null or
   * undefined leaves a parameter out.
   */
  tokenEndpointParams?: Record<string, unknown>;
  /** A reduced scope for the refreshed token. */
  scope?: string;
}

const REFRESH_PARAMS = new Set(['tokenEndpointParams', 'scope']);

/**
 * `req.oidc.accessToken`: the session's access token, shaped as
 * express-openid-connect users know it. `isExpired` and `refresh` are bound
 * to the token, so they work destructured:
 *
 * @example
 * ```ts
 * let { token_type, access_token, isExpired, refresh } = req.oidc.accessToken;
 * if (isExpired()) ({ access_token } = await refresh());
 * ```
 */
export class AccessToken {
  readonly access_token: string;
  readonly token_type: string;
  readonly scope: string | undefined;
  readonly expires_at: number | undefined;

  /** True once the token's lifetime has passed (never when the OP gave no lifetime). */
  readonly isExpired: () => boolean;

  /**
   * Refreshes now (one refresh per session at a time, across instances with a
   * shared lock), stores the result in the session and resolves with the new
   * token. Rejects with an `OidcError` as `getAccessToken()` does.
   */
  readonly refresh: (params?: RefreshParams) => Promise<AccessToken>;

  constructor(data: AccessTokenData, refresh: (options?: RefreshOptions) => Promise<AccessToken>) {
    this.access_token = data.access_token;
    this.token_type = data.token_type;
    this.scope = data.scope;
    this.expires_at = data.expires_at;
    const expiresAt = data.expires_at;
    this.isExpired = () => expiresAt !== undefined && expiresAt <= nowSeconds();
    this.refresh = (params) => {
      try {
        return refresh({ ...refreshOptions(params), force: true });
      } catch (err) {
        return Promise.reject(err);
      }
    };
  }

  /** Seconds until expiry (0 when expired; undefined when the OP gave no lifetime). */
  get expires_in(): number | undefined {
    return this.expires_at === undefined ? undefined : Math.max(0, this.expires_at - nowSeconds());
  }

  // The token value stays out of logs of the object.
  toJSON(): Record<string, unknown> {
    return { token_type: this.token_type, expires_in: this.expires_in, scope: this.scope };
  }

  /** `util.inspect` (and console.log) show the token without its value. */
  [inspect.custom](_depth: number, options: object): string {
    return `AccessToken ${inspect(this.toJSON(), options)}`;
  }
}

function invalid(message: string): OidcError {
  return new OidcError('ERR_CONFIG_INVALID', `accessToken.refresh: ${message}`, { status: 500 });
}

/** The arguments of `refresh()`, checked: they come from app code, possibly untyped. */
function refreshOptions(params: RefreshParams | undefined): Omit<RefreshOptions, 'force'> {
  if (params === undefined || params === null) return {};
  if (typeof params !== 'object' || Array.isArray(params)) throw invalid('the argument must be an object ({ tokenEndpointParams })');
  for (const key of Object.keys(params)) if (!REFRESH_PARAMS.has(key)) throw invalid(`unknown option "${key}" (known: tokenEndpointParams, scope)`);
  const out: Omit<RefreshOptions, 'force'> = {};
  if (params.tokenEndpointParams !== undefined) out.tokenEndpointParams = paramStrings(params.tokenEndpointParams, 'accessToken.refresh: "tokenEndpointParams"');
  if (params.scope !== undefined) out.scope = nonEmptyString(params.scope, 'accessToken.refresh: "scope"');
  return out;
}
