/**
 * The edges of safeReturnTo's up-front filters: each pattern is anchored where it must be (a
 * harmless character later in the URL keeps it), the length limit is exact, and only `http(s)://`
 * counts as a written scheme (a `blob:` URL of the app's own origin is still refused).
 */
import { describe, expect, test } from '@jest/globals';

import { safeReturnTo } from '../../src/routes/return-to.js';

const BASE = 'https://app.example.com';

describe('filters apply where the URL starts, not anywhere in it', () => {
  test.each([
    ['/files/a%5cb', `${BASE}/files/a%5cb`], // an encoded backslash inside the path is data
    ['/search?q=a:b', `${BASE}/search?q=a:b`], // a colon in the query is no scheme
    ['reports/q1:summary', `${BASE}/reports/q1:summary`], // nor one after a slash
    ['reports/summary:all', `${BASE}/reports/summary:all`],
    ['/next?to=https://evil.example.com', `${BASE}/next?to=https://evil.example.com`],
  ])('%j -> %s', (value, expected) => {
    expect(safeReturnTo(value, BASE)).toBe(expected);
  });
});

describe('only http(s):// is a scheme worth resolving', () => {
  test('a blob: URL of the app origin falls back', () => {
    // new URL('blob:https://app.example.com/x').origin is the app's origin: the scheme filter must refuse it.
    expect(safeReturnTo('blob:https://app.example.com/x', BASE)).toBe(`${BASE}/`);
  });

  test('an http:// URL on an http app is kept', () => {
    expect(safeReturnTo('http://localhost:3000/profile', 'http://localhost:3000')).toBe('http://localhost:3000/profile');
  });
});

describe('length and emptiness', () => {
  test('2048 characters are kept, 2049 fall back', () => {
    const kept = `/${'a'.repeat(2_047)}`;
    expect(safeReturnTo(kept, BASE)).toBe(`${BASE}${kept}`);
    expect(safeReturnTo(`${kept}a`, BASE)).toBe(`${BASE}/`);
  });

  test('an empty returnTo gives baseURL itself, also when it has a path', () => {
    expect(safeReturnTo('', 'https://app.example.com/app')).toBe('https://app.example.com/app');
  });
});
