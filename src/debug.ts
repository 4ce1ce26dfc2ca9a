import createDebug from 'debug';

/**
 * Loggers under `express-oidc:<area>` (enable with `DEBUG=express-oidc:*`).
 * They tell what happened, never with which values: no token, code, secret,
 * password or cookie value is ever passed to them.
 */
export function debug(area: string): createDebug.Debugger {
  return createDebug(`express-oidc:${area}`);
}
