// examples/backchannel-logout-custom-query-store.js: the app ends the sessions itself
// (onLogoutToken) and turns the per-request check and the login hook off. One difference:
// an express-session store keeps the session as express-session shapes it, so the ID token
// is at `session.oidc.id_token` (was `session.data.id_token`).
import { promisify } from 'node:util';
import express from 'express';
import memorystore from 'memorystore';
import { auth, requiresAuth } from 'express-oidc';

const MemoryStore = memorystore(auth);

const app = express();

export const store = new MemoryStore();
const all = promisify(store.all).bind(store);
const destroy = promisify(store.destroy).bind(store);

const decodeJWT = (jwt) => {
  const [, payload] = jwt.split('.');
  return JSON.parse(Buffer.from(payload, 'base64url').toString());
};

export const received = [];

const onLogoutToken = async (token) => {
  received.push(token);
  const { sid: logoutSid, sub: logoutSub } = token;
  // Note: you may not be able to access all sessions in your store
  // and this is likely to be an expensive operation if you have lots of sessions.
  const allSessions = await all();
  for (const [key, session] of Object.entries(allSessions)) {
    const { sub, sid } = decodeJWT(session.oidc.id_token);
    if ((logoutSid && logoutSid === sid) || (logoutSub && logoutSub === sub)) {
      await destroy(key);
    }
  }
};

app.use(
  auth({
    authRequired: false,
    idpLogout: true,
    session: { store },
    backchannelLogout: {
      onLogoutToken,
      isLoggedOut: false,
      onLogin: false,
    },
  }),
);

app.get('/profile', requiresAuth(), (req, res) => res.send(`hello ${req.oidc.user.sub}`));

export default app;
