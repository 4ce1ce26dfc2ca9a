/** Longest `returnTo` accepted; longer ones fall back to the default. */
const MAX_RETURN_TO = 2_048;

/**
 * Resolves `returnTo` against the app's `baseURL` and keeps it only when it
 * lands on the app's own origin. URL parsing does the hard part: `//host`,
 * backslashes (`/\host`), tabs and newlines, `javascript:` and other schemes
 * all resolve to another origin (or `null`) and are refused. The result is an
 * absolute URL, so a browser cannot read it any other way.
 */
export function safeReturnTo(value: unknown, baseURL: string): string {
  const base = new URL(`${baseURL}/`);
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_RETURN_TO) return baseURL;
  // Encoded backslashes and slashes at the start are how filters get fooled; nothing legitimate needs them.
  if (/^\s*(?:\/|%2f)(?:\/|\\|%2f|%5c)/i.test(value) || /^\s*\\/.test(value)) return baseURL;
  let url: URL;
  try {
    url = new URL(value, base);
  } catch {
    return baseURL;
  }
  if (url.origin !== base.origin || (url.protocol !== 'http:' && url.protocol !== 'https:')) return baseURL;
  url.username = '';
  url.password = '';
  return url.href;
}
