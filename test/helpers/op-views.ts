/** Plain HTML pages served by the test OP. Kept minimal: the Browser helper parses them. */

export function escapeHtml(value: unknown): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body>
${body}
</body>
</html>`;
}

export function loginPage(uid: string, clientId: unknown, error?: string): string {
  return page(
    'Sign in',
    `<h1>Sign in</h1>
<p>to continue to ${escapeHtml(clientId)}</p>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
  <input type="text" name="username" autocomplete="username" placeholder="username or e-mail">
  <input type="password" name="password" autocomplete="current-password" placeholder="password">
  <button type="submit">Sign in</button>
</form>`,
  );
}

export function consentPage(uid: string, clientId: unknown, details: Record<string, unknown>): string {
  return page(
    'Authorize',
    `<h1>Authorize</h1>
<p>${escapeHtml(clientId)} is asking for access.</p>
<pre>${escapeHtml(JSON.stringify(details, null, 2))}</pre>
<form method="post" action="/interaction/${escapeHtml(uid)}/confirm">
  <button type="submit">Allow</button>
</form>
<form method="post" action="/interaction/${escapeHtml(uid)}/abort">
  <button type="submit">Deny</button>
</form>`,
  );
}

/** `form` is oidc-provider's own <form> with the xsrf field; the confirm button sets logout=yes. */
export function logoutPage(host: string, form: string): string {
  return page(
    'Sign out',
    `<h1>Do you want to sign out from ${escapeHtml(host)}?</h1>
${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>`,
  );
}

export function logoutSuccessPage(clientId: unknown): string {
  return page('Signed out', `<h1>Signed out</h1><p>${clientId ? `from ${escapeHtml(clientId)}` : ''}</p>`);
}

export function errorPage(out: Record<string, unknown>): string {
  const rows = Object.entries(out)
    .map(([key, value]) => `<p><strong>${escapeHtml(key)}</strong>: <span class="${escapeHtml(key)}">${escapeHtml(value)}</span></p>`)
    .join('\n');
  return page('Error', `<h1>Error</h1>\n${rows}`);
}
