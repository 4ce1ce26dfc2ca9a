import { inspect } from 'node:util';
import type { AccessTokenData, RefreshOptions } from '../refresh/index.js';
import { nowSeconds } from '../session/data.js';

/** `req.oidc.accessToken`: the session's access token, shaped as express-openid-connect users know it. */
export class AccessToken {
  readonly access_token: string;
  readonly token_type: string;
  readonly scope: string | undefined;
  readonly expires_at: number | undefined;
  readonly #refresh: (options?: RefreshOptions) => Promise<AccessToken>;

  constructor(data: AccessTokenData, refresh: (options?: RefreshOptions) => Promise<AccessToken>) {
    this.access_token = data.access_token;
    this.token_type = data.token_type;
    this.scope = data.scope;
    this.expires_at = data.expires_at;
    this.#refresh = refresh;
  }

  /** Seconds until expiry (0 when expired; undefined when the OP gave no lifetime). */
  get expires_in(): number | undefined {
    return this.expires_at === undefined ? undefined : Math.max(0, this.expires_at - nowSeconds());
  }

  isExpired(): boolean {
    return this.expires_at !== undefined && this.expires_at <= nowSeconds();
  }

  /** Refreshes now (one refresh per session at a time) and returns the new token. */
  refresh(options: Omit<RefreshOptions, 'force'> = {}): Promise<AccessToken> {
    return this.#refresh({ ...options, force: true });
  }

  // The token value stays out of logs of the object.
  toJSON(): Record<string, unknown> {
    return { token_type: this.token_type, expires_in: this.expires_in, scope: this.scope };
  }

  [inspect.custom](_depth: number, options: object): string {
    return `AccessToken ${inspect(this.toJSON(), options)}`;
  }
}
