import type * as oidc from 'openid-client';

/**
 * The `application/x-www-form-urlencoded` encoding RFC 6749 §2.3.1 asks for
 * before the client ID and secret go into HTTP Basic: letters, digits and
 * `*-._` stay as they are, a space becomes `+`, every other byte is
 * percent-encoded. openid-client's encoder also escapes `-._`, which OPs that
 * compare the credentials without decoding them (Glewlwyd among others) refuse;
 * OPs that decode see the same credentials either way.
 */
export function formUrlEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

/**
 * `client_secret_basic` as an openid-client `ClientAuth`, with the RFC 6749
 * §2.3.1 encoding of {@link formUrlEncode}.
 */
export function clientSecretBasic(clientSecret: string): oidc.ClientAuth {
  return (_as, client, _body, headers) => {
    const credentials = `${formUrlEncode(client.client_id)}:${formUrlEncode(clientSecret)}`;
    headers.set('authorization', `Basic ${Buffer.from(credentials, 'latin1').toString('base64')}`);
  };
}
