/**
 * A rough check that a cookie-signing secret is random, not typed: it catches
 * the obvious (`"a" × 40`, `"abcabc…"`, `"abcdefgh…"`, a word from a tiny
 * alphabet), not every weak secret. Length is checked on its own.
 */

/**
 * Fewer different characters than this is a tiny alphabet. `openssl rand -hex 16`
 * (32 characters of 16) shows fewer than 9 about once in a million draws.
 */
const MIN_DISTINCT_CHARACTERS = 8;
/**
 * Estimated bits (Shannon entropy of the characters times the length) below
 * this are too few. The estimate of a short random secret runs low: for
 * `openssl rand -hex 16` it fell below 100 bits once in a thousand draws and
 * never below 91 in 200,000, so the bar stays well under that.
 */
const MIN_ESTIMATED_BITS = 80;
/** More neighbouring pairs (`ab`, `bc`, `aa`) than this share of the length is a typed run. */
const MAX_NEIGHBOUR_SHARE = 0.6;

/** Why `secret` looks guessable, or undefined when it passes. Never mentions the secret's content. */
export function weakSecretReason(secret: string): string | undefined {
  const chars = [...secret];
  const counts = new Map<string, number>();
  for (const c of chars) counts.set(c, (counts.get(c) ?? 0) + 1);
  if (counts.size < MIN_DISTINCT_CHARACTERS) return 'too few different characters';
  if (repeatsAPattern(chars)) return 'a repeated pattern';
  let neighbours = 0;
  for (let i = 1; i < chars.length; i += 1) {
    if (Math.abs((chars[i] as string).codePointAt(0)! - (chars[i - 1] as string).codePointAt(0)!) <= 1) neighbours += 1;
  }
  if (neighbours > chars.length * MAX_NEIGHBOUR_SHARE) return 'a run of neighbouring characters';
  let bitsPerChar = 0;
  for (const n of counts.values()) bitsPerChar -= (n / chars.length) * Math.log2(n / chars.length);
  if (bitsPerChar * chars.length < MIN_ESTIMATED_BITS) return 'too little randomness for its length';
  return undefined;
}

/** Whether the characters are a shorter block repeated (a period of at most a third of the length). */
function repeatsAPattern(chars: string[]): boolean {
  for (let period = 1; period <= chars.length / 3; period += 1) {
    if (chars.every((c, i) => c === chars[i % period])) return true;
  }
  return false;
}
