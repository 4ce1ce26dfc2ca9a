// EXAMPLES.md 3, examples/custom-routes.js: the app mounts its own login and callback routes.
import express from 'express';
import { auth, requiresAuth } from 'express-oidc';

const app = express();
const callbackUrl = `${process.env.BASE_URL}/callback`;

app.use(
  auth({
    idpLogout: true,
    authRequired: false,
    routes: {
      // Pass custom options to the login method by overriding the default login route
      login: false,
      // Pass a custom path to the postLogoutRedirect to redirect users to a different
      // path after login, this should be registered on your authorization server.
      postLogoutRedirect: '/custom-logout',
      callback: false,
    },
  }),
);

app.get('/', (req, res) => res.send('Welcome!'));

app.get('/profile', requiresAuth(), (req, res) =>
  res.send(`hello ${req.oidc.user.sub}`),
);

app.get('/login', (req, res) =>
  res.oidc.login({
    returnTo: '/profile',
    authorizationParams: {
      redirect_uri: callbackUrl,
    },
  }),
);

app.get('/custom-logout', (req, res) => res.send('Bye!'));

app.get('/callback', (req, res) => {
  res.set('x-app-callback', 'GET');
  res.oidc.callback({
    redirectUri: callbackUrl,
    tokenEndpointParams: { via: 'app-callback', attempt: 1 },
  });
});

app.post('/callback', express.urlencoded({ extended: false }), (req, res) => {
  res.set('x-app-callback', 'POST');
  res.oidc.callback({
    redirectUri: callbackUrl,
  });
});

export default app;
