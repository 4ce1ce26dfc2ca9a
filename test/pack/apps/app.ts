/**
 * A consumer app in strict TypeScript, compiled once as an ES module and once
 * as CommonJS (`"module": "nodenext"` both times; the package.json `type`
 * decides). It uses what the README shows: `req.oidc.user`, an access token,
 * `req.session`, and an error handler that reads the stable `code`.
 */
import http from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { auth, requiresAuth, claimEquals, isOidcError, type AuthOptions, type UserClaims } from 'express-oidc';

const options: AuthOptions = {
  authRequired: false,
  authorizationParams: { scope: 'openid profile email offline_access' },
  session: { rollingDuration: 3_600 },
};

const app = express();
app.use(auth(options));

app.get('/', (req, res) => {
  res.send(req.oidc.isAuthenticated() ? `Hello ${req.oidc.user?.name ?? 'there'}` : 'Logged out');
});

app.get('/admin', requiresAuth(), claimEquals('email_verified', true), (req, res) => {
  const user: UserClaims | undefined = req.oidc.user;
  res.json({ email: user?.email });
});

app.get('/profile', requiresAuth(), async (req: Request, res: Response, next: NextFunction) => {
  try {
    const { access_token, token_type } = await req.oidc.getAccessToken();
    const name: string | undefined = req.oidc.user?.name;
    // express-session's types come with the package: req.session is typed.
    const sessionId: string = req.session.id;
    res.json({
      format: process.env.APP_FORMAT,
      sub: req.oidc.user?.sub,
      name,
      hasAccessToken: typeof access_token === 'string' && token_type.length > 0,
      hasSession: sessionId.length > 0
    });
  } catch (err) {
    next(err);
  }
});

app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
  if (isOidcError(err)) {
    res.status(err.status).type('text').send(`Sign-in problem (${err.code})`);
    return;
  }
  res.status(500).type('text').send('Something went wrong');
});

const server = http.createServer(app);
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log(`listening on ${process.env.PORT}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
