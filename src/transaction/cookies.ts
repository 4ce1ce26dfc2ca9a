import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Reads the request's cookies into a map. Malformed pairs are skipped rather
 * than thrown on: a garbage Cookie header must not break the request.
 */
export function parseCookies(req: IncomingMessage): Map<string, string> {
  const cookies = new Map<string, string>();
  const header = req.headers.cookie;
  if (!header) return cookies;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    const name = eq < 0 ? '' : part.slice(0, eq).trim();
    if (name.length === 0) continue;
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    // The first occurrence wins, as browsers send the most specific path first.
    if (!cookies.has(name)) cookies.set(name, value);
  }
  return cookies;
}

export interface CookieAttributes {
  maxAge?: number;
  path?: string;
  domain?: string;
  secure?: boolean;
  sameSite?: 'Lax' | 'Strict' | 'None';
}

/** Appends a Set-Cookie header (HttpOnly always) without dropping ones already set. */
export function setCookie(res: ServerResponse, name: string, value: string, attrs: CookieAttributes): void {
  let cookie = `${name}=${value}; Path=${attrs.path ?? '/'}; HttpOnly`;
  if (attrs.maxAge !== undefined) cookie += `; Max-Age=${Math.floor(attrs.maxAge)}`;
  if (attrs.maxAge === 0) cookie += '; Expires=Thu, 01 Jan 1970 00:00:00 GMT';
  if (attrs.domain) cookie += `; Domain=${attrs.domain}`;
  if (attrs.secure) cookie += '; Secure';
  if (attrs.sameSite) cookie += `; SameSite=${attrs.sameSite}`;
  const existing = res.getHeader('Set-Cookie');
  const list = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
  res.setHeader('Set-Cookie', [...list, cookie]);
}

export function clearCookie(res: ServerResponse, name: string, attrs: CookieAttributes): void {
  setCookie(res, name, '', { ...attrs, maxAge: 0 });
}
