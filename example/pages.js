/** The demo app's HTML: one layout, a few pages, every value escaped. */

export const escapeHtml = (value) =>
  String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

const time = (epochSeconds) => new Date(epochSeconds * 1000).toISOString().slice(11, 19) + ' UTC';

function layout(req, title, body) {
  const signedIn = req.oidc?.isAuthenticated() ?? false;
  const nav = signedIn
    ? `<a href="/">Home</a><a href="/profile">Profile</a><a href="/call-api">Call the API</a><a class="right" href="/logout">Log out</a>`
    : `<a href="/">Home</a><a class="right" href="/login?returnTo=%2Fprofile">Log in</a>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} - express-oidc demo</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; margin: 0; background: #f8f9fb; color: #1d2330; }
  nav { display: flex; gap: 1.2rem; padding: .9rem 2rem; background: #1d2330; }
  nav a { color: #dfe4ee; text-decoration: none; }
  nav a.right { margin-left: auto; }
  main { max-width: 46rem; margin: 2rem auto; padding: 0 2rem; }
  table { border-collapse: collapse; width: 100%; background: #fff; }
  th, td { text-align: left; padding: .45rem .7rem; border-bottom: 1px solid #e3e6ec; vertical-align: top; }
  th { width: 12rem; color: #5c6575; font-weight: 500; }
  .button { display: inline-block; padding: .6rem 1.2rem; background: #3b5bdb; color: #fff; border-radius: 6px; text-decoration: none; }
  .box { background: #fff; border: 1px solid #e3e6ec; border-radius: 8px; padding: 1rem 1.2rem; margin: 1rem 0; }
  .error { color: #c92a2a; }
  .notice { background: #e6fcf5; border: 1px solid #96f2d7; border-radius: 6px; padding: .5rem .8rem; }
  /* Long values (tokens, URLs) wrap instead of leaving the box. */
  pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; }
  code { background: #eef0f4; padding: 0 .3rem; border-radius: 4px; }
</style>
</head>
<body>
<nav>${nav}</nav>
<main>
${body}
</main>
</body>
</html>`;
}

/** @param {{ signedOut?: boolean }} [options] signedOut: the user just signed out */
export function homePage(req, { signedOut = false } = {}) {
  if (!req.oidc.isAuthenticated()) {
    return layout(
      req,
      'Home',
      `<h1>express-oidc demo</h1>
${signedOut ? '<p class="notice" id="signed-out" role="status">You are signed out.</p>\n' : ''}<p>This app signs you in with OpenID Connect and calls an API with an access token that it keeps fresh.</p>
<p><a class="button" id="login" href="/login?returnTo=%2Fprofile">Log in</a></p>`,
    );
  }
  return layout(
    req,
    'Home',
    `<h1>Welcome back, ${escapeHtml(req.oidc.user?.name ?? req.oidc.user?.sub)}</h1>
<p>See your <a href="/profile">profile</a> or <a href="/call-api">call the API</a>.</p>`,
  );
}

export function profilePage(req) {
  const rows = Object.entries(req.oidc.user ?? {})
    .map(([claim, value]) => `<tr><th>${escapeHtml(claim)}</th><td>${escapeHtml(typeof value === 'string' ? value : JSON.stringify(value))}</td></tr>`)
    .join('\n');
  const token = req.oidc.accessToken;
  return layout(
    req,
    'Profile',
    `<h1 id="profile-title">Profile</h1>
<p>The claims of your ID token (<code>req.oidc.user</code>):</p>
<table id="claims">${rows}</table>
<p>Access token: ${token?.expires_at === undefined ? 'none' : `expires at ${escapeHtml(time(token.expires_at))}`}. Refresh token: ${req.oidc.refreshToken ? 'yes' : 'no'}.</p>
<p><a class="button" href="/call-api">Call the API</a></p>`,
  );
}

/**
 * @param {object} call
 * @param {number | undefined} call.expiresAt the access token's expiry, epoch seconds
 * @param {number | undefined} call.status the API's HTTP status
 * @param {unknown} call.answer the API's JSON answer
 * @param {string | undefined} call.problem why the API could not be called
 */
export function apiPage(req, { expiresAt, status, answer, problem }) {
  const tokenLine =
    expiresAt === undefined
      ? 'The OP gave the access token no lifetime.'
      : `The access token sent expires at <b id="token-expiry" data-expires-at="${expiresAt}">${escapeHtml(time(expiresAt))}</b>.
It is refreshed with the refresh token when it is about to expire: call again after that time and this one changes.`;
  const result =
    problem === undefined
      ? `<p>The API answered <b id="api-status">${escapeHtml(status)}</b>:</p><pre id="api-answer">${escapeHtml(JSON.stringify(answer, null, 2))}</pre>`
      : `<p class="error" id="api-problem">${escapeHtml(problem)}</p>`;
  return layout(
    req,
    'API',
    `<h1>Call the API</h1>
<p>The route got its token with <code>await req.oidc.getAccessToken()</code> and called <code>GET /api/messages</code> with it.</p>
<div class="box">${result}</div>
<p>${tokenLine}</p>
<p><a class="button" id="call-again" href="/call-api">Call again</a></p>`,
  );
}

export function errorPage(req, err) {
  const code = typeof err?.code === 'string' ? err.code : 'ERR_INTERNAL';
  // Only 4xx messages are meant for users (OidcError sets `expose`); others stay in the server log.
  const message = err?.expose === true ? err.message : 'Something went wrong.';
  return layout(
    req,
    'Error',
    `<h1>Sign-in problem</h1>
<p class="error"><code>${escapeHtml(code)}</code> ${escapeHtml(message)}</p>
<p><a class="button" href="/login?returnTo=%2Fprofile">Log in again</a></p>`,
  );
}
