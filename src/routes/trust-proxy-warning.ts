import type { Request } from 'express';

/**
 * With `trust proxy: true`, Express takes the left-most `X-Forwarded-For`
 * entry as `req.ip`, and any client writes that entry: the password login
 * route would then let the client choose the IP the OP's brute-force
 * protection sees (`auth0-forwarded-for`). The setting lives on the Express
 * app, which `auth()` only meets at the first request: checked then, once.
 */
export function warnOnPermissiveTrustProxy(req: Request): void {
  if (req.app?.get('trust proxy') !== true) return;
  console.warn(
    "express-oidc: passwordLogin is on and Express's 'trust proxy' is true, so any client can choose the IP sent to the OP " +
      "as auth0-forwarded-for (through X-Forwarded-For). Set it to the number of proxies in front of the app instead, " +
      "e.g. app.set('trust proxy', 1).",
  );
}
