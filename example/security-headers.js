/**
 * The usual security headers on every answer of the demo: a Content Security
 * Policy (no script, no plugin, no framing, no foreign base URL), the same
 * "no framing" for older browsers, no MIME sniffing, and no full URL (with
 * a query that may hold a code) in the Referer sent to other sites.
 */
const HEADERS = {
  // Inline styles only (the pages' one <style>); no script at all.
  'Content-Security-Policy': "default-src 'self'; script-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

/** Express middleware: sets the headers above; a route may still override one. */
export function securityHeaders() {
  return (_req, res, next) => {
    res.set(HEADERS);
    next();
  };
}
