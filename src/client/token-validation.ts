import type { ClientCore } from './core.js';
import type { ServerState } from './discovery.js';
import { validateIdToken as validate, type IdTokenClaims } from './id-token.js';
import { validateLogoutToken as validateLogout, type LogoutTokenClaims } from './logout-token.js';
import type { SessionBoundValidation } from './requests.js';

/** Validates an ID token with the client's settings and the cached keys. */
export async function validateIdToken(core: ClientCore, idToken: string, validation: SessionBoundValidation = {}): Promise<IdTokenClaims> {
  return checkIdToken(core, idToken, await core.discovery.get(), core.clientID, validation);
}

/** Validates an ID token issued to `clientID` against `server`'s keys; `expectedSubject` is checked as `sub`. */
export function checkIdToken(
  core: ClientCore,
  idToken: string,
  server: ServerState,
  clientID: string,
  validation: SessionBoundValidation & { refreshed?: boolean },
): Promise<IdTokenClaims> {
  return validate(idToken, server.keys, core.idTokenSettings(clientID, server), {
    ...validation,
    ...(validation.expectedSubject === undefined ? {} : { sub: validation.expectedSubject }),
  });
}

/** Validates a back-channel logout token against the same cached keys and settings as ID tokens. */
export async function validateLogoutToken(core: ClientCore, logoutToken: string): Promise<LogoutTokenClaims> {
  const server = await core.discovery.get();
  return validateLogout(logoutToken, server.keys, core.idTokenSettings(core.clientID, server));
}
