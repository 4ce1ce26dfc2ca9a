/** Longest `returnTo` accepted; longer ones fall back to the default. */
const MAX_RETURN_TO = 2_048;

/** Control characters: URL parsers drop or reinterpret them (tabs and newlines vanish), so filters read another URL than browsers do. */
const CONTROL = /[\x00-\x1f\x7f]/;
/** A second slash or a backslash, raw or percent-encoded, where the path starts: a network-path reference in some parser. */
const DOUBLE_SLASH_START = /^(?:\/|%2f|\\|%5c)(?:\/|%2f|\\|%5c)/i;
const ENCODED_BACKSLASH_START = /^%5c/i;
/** A scheme must come with `//`: `https:host` is a path in one parser and a host in another. */
const SCHEME = /^[a-z][a-z\d+.-]*:/i;
const FULL_HTTP_URL = /^https?:\/\//i;

/**
 * Resolves `returnTo` against the app's `baseURL` and keeps it only when it
 * plainly lands on the app's own origin; anything else gives `baseURL`
 * (as an absolute URL).
 * Refused up front, whatever a lenient parser would make of them: control
 * characters (tabs, newlines), leading or trailing spaces, a backslash before
 * the query, `//` `/\` `%2f%2f` `%5c` at the start, and any scheme not
 * written as `http(s)://`. What remains is resolved with the URL parser and
 * must have the app's origin; userinfo is dropped. The result is absolute, so
 * a browser cannot read it any other way.
 *
 * @example
 * ```ts
 * safeReturnTo('/profile?tab=1', 'https://app.example.com'); // 'https://app.example.com/profile?tab=1'
 * safeReturnTo('//evil.example.com', 'https://app.example.com'); // 'https://app.example.com/'
 * ```
 */
export function safeReturnTo(value: unknown, baseURL: string): string {
  const base = new URL(`${baseURL}/`);
  const fallback = new URL(baseURL).href;
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_RETURN_TO) return fallback;
  if (CONTROL.test(value) || value !== value.trim()) return fallback;
  if (DOUBLE_SLASH_START.test(value) || ENCODED_BACKSLASH_START.test(value)) return fallback;
  if (/\\/.test(value.split(/[?#]/, 1)[0] ?? '')) return fallback;
  if (SCHEME.test(value) && !FULL_HTTP_URL.test(value)) return fallback;
  let url: URL;
  try {
    url = new URL(value, base);
  } catch {
    return fallback;
  }
  if (url.origin !== base.origin) return fallback;
  url.username = '';
  url.password = '';
  return url.href;
}
