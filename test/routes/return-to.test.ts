/**
 * safeReturnTo keeps returnTo on the app's origin in every spelling an attacker may try, and
 * falls back to baseURL for anything else.
 */
import { safeReturnTo } from '../../src/routes/return-to.js';

const BASE = 'https://app.example.com';
const FALLBACK = 'https://app.example.com/';

describe('attacker spellings fall back to baseURL', () => {
  test.each([
    // absolute URLs elsewhere
    'https://evil.example.com',
    'http://app.example.com/', // same host, other scheme: another origin
    'https://app.example.com:8443/',
    'https://app.example.com.evil.example.com/',
    // network-path references
    '//evil.example.com',
    '///evil.example.com',
    '////evil.example.com/x',
    // backslashes, raw and encoded
    '/\\evil.example.com',
    '\\/evil.example.com',
    '\\\\evil.example.com',
    '/%5cevil.example.com',
    '/%5Cevil.example.com',
    '%5c%5cevil.example.com',
    '%5C/evil.example.com',
    '/path\\..\\..\\evil',
    // encoded slashes
    '/%2fevil.example.com',
    '%2f%2fevil.example.com',
    '%2F%2Fevil.example.com',
    '%2f/evil.example.com',
    // whitespace and control characters (parsers drop them: "/\t/evil" is "//evil")
    '/\t/evil.example.com',
    '/\n/evil.example.com',
    '/\r\n/evil.example.com',
    '\t//evil.example.com',
    ' //evil.example.com',
    '/profile ',
    '/\u0000/evil.example.com',
    '/\u007f',
    // schemes
    'javascript:alert(1)',
    'JAVASCRIPT:alert(1)',
    ' javascript:alert(1)',
    'java\tscript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'vbscript:msgbox(1)',
    'file:///etc/passwd',
    'https:evil.example.com',
    'https:/evil.example.com',
    'http:evil.example.com',
    'https:app.example.com/profile', // even when a lenient parser would keep it on the origin
    'app.example.com:443/profile',
    // userinfo tricks
    'https://app.example.com@evil.example.com/',
    'https://app.example.com:443@evil.example.com/',
    '//app.example.com@evil.example.com',
    'https://evil.example.com\\@app.example.com/',
    'https://evil.example.com#@app.example.com/',
    'https://evil.example.com?@app.example.com/',
    // not a string, empty, too long
    '',
    `/${'a'.repeat(2_048)}`,
  ])('%j', (value) => {
    expect(safeReturnTo(value, BASE)).toBe(FALLBACK);
  });

  test.each([undefined, null, 42, {}, ['/profile'], { href: '/profile' }])('a non-string (%p)', (value) => {
    expect(safeReturnTo(value, BASE)).toBe(FALLBACK);
  });
});

describe('returnTo on the app is kept, as an absolute URL', () => {
  test.each([
    ['/', `${BASE}/`],
    ['/profile', `${BASE}/profile`],
    ['/profile?tab=keys&x=1#top', `${BASE}/profile?tab=keys&x=1#top`],
    ['/search?q=a\\b', `${BASE}/search?q=a\\b`], // a backslash in the query is data, not a path
    ['/a b', `${BASE}/a%20b`],
    ['profile', `${BASE}/profile`],
    ['https://app.example.com/profile', `${BASE}/profile`],
    ['HTTPS://APP.EXAMPLE.COM/profile', `${BASE}/profile`],
    ['https://app.example.com:443/profile', `${BASE}/profile`],
    ['https://user:pw@app.example.com/profile', `${BASE}/profile`], // userinfo dropped
    ['/@evil.example.com', `${BASE}/@evil.example.com`],
    ['/.//evil.example.com', `${BASE}//evil.example.com`], // absolute, so still on the app
  ])('%j -> %s', (value, expected) => {
    expect(safeReturnTo(value, BASE)).toBe(expected);
  });

  test('a baseURL with a path: paths resolve on the origin, the fallback is baseURL itself', () => {
    expect(safeReturnTo('/other', 'https://app.example.com/app')).toBe('https://app.example.com/other');
    expect(safeReturnTo('//evil.example.com', 'https://app.example.com/app')).toBe('https://app.example.com/app');
  });

  test('an http baseURL on localhost', () => {
    expect(safeReturnTo('/profile', 'http://localhost:3000')).toBe('http://localhost:3000/profile');
    expect(safeReturnTo('http:evil.example.com', 'http://localhost:3000')).toBe('http://localhost:3000/');
  });
});
