// EXAMPLES.md 7, examples/validate_claims.js: routes guarded by the ID token's claims.
import express from 'express';
import { auth, claimEquals, claimIncludes, claimCheck } from 'express-oidc';

const app = express();

app.use(
  auth({
    authRequired: false,
  }),
);

// claimEquals checks if a claim equals the given value
app.get('/alice', claimEquals('name', 'Alice Example'), (req, res) =>
  res.send(`Hello ${req.oidc.user.sub}, this is Alice's section.`),
);

app.get('/bob', claimEquals('name', 'Bob Example'), (req, res) => res.send('Bob only'));

// claimIncludes checks if a claim includes all the given values
app.get('/audience', claimIncludes('aud', process.env.CLIENT_ID), (req, res) => res.send('for this app'));

// claimCheck takes a function that checks the claims and returns true to allow access
app.get(
  '/example-com',
  claimCheck((req, claims) => claims.email.endsWith('@example.com')),
  (req, res) => res.send(`Hello ${req.oidc.user.sub}, this is the example.com section.`),
);

// Not from the examples: a check that returns a promise (truthy, but not an answer) never passes.
app.get('/promise', claimCheck(() => Promise.resolve(false)), (req, res) => res.send('should not be reached'));

export default app;
