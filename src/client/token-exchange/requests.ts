import type { ClientOverrides } from '../requests.js';
import type { TokenSet } from '../token-set.js';

/** A value of an extra token exchange parameter. */
export type ExchangeParamValue = string | number | boolean;

/** Client identity fields a token exchange may carry (see `ClientOverrides`). */
export type ExchangeClient = Omit<ClientOverrides, 'extra'>;

/** `AuthClient.customTokenExchange()`: an RFC 8693 token exchange (Auth0 Custom Token Exchange). */
export interface CustomTokenExchangeRequest extends ExchangeClient {
  /** The token to exchange. */
  subjectToken: string;
  /** Its type URI (default `urn:ietf:params:oauth:token-type:access_token`). */
  subjectTokenType?: string;
  /** The acting party's token (delegation); `actorTokenType` is then required. */
  actorToken?: string;
  /** The type URI of `actorToken`. */
  actorTokenType?: string;
  /** The type of token wanted (e.g. `urn:ietf:params:oauth:token-type:jwt`). */
  requestedTokenType?: string;
  /** The API the new token is for. */
  audience?: string;
  /** Scopes asked for. */
  scope?: string;
  /** Organization name or `org_...` ID the token is issued in. */
  organization?: string;
  /**
   * Further token endpoint parameters (e.g. your Custom Token Exchange Action's
   * inputs). Refused when one names a parameter set above or the client's
   * identity (`grant_type`, `client_id`, `client_secret`, `client_assertion`, ...).
   */
  extra?: Record<string, ExchangeParamValue>;
}

/** The `act` (actor) claim of a delegated token (RFC 8693 section 4.1). */
export interface ActClaim {
  /** The acting party. */
  sub: string;
  [claim: string]: unknown;
}

/** What a token exchange returned. */
export interface TokenExchangeResult extends TokenSet {
  /** The type of token issued (RFC 8693 `issued_token_type`). */
  issuedTokenType?: string;
  /** The actor claim, read from the ID token or a JWT access token when it carries one. */
  act?: ActClaim;
}

/** `AuthClient.getAccessTokenForConnection()`: Auth0 Token Vault. */
export interface AccessTokenForConnectionRequest extends ExchangeClient {
  /** The connection (e.g. `google-oauth2`) whose provider's access token is wanted. */
  connection: string;
  /** The user's refresh token, exchanged (not consumed) for the connection's token. */
  refreshToken: string;
  /** Which of the user's accounts at the provider, when they linked several. */
  loginHint?: string;
}

/** The access token of a connected provider. */
export interface ConnectionTokenSet extends TokenExchangeResult {
  /** The connection it is for. */
  connection: string;
}
