import { inspect } from 'node:util';

/**
 * Keeps a value that holds a token, a code, a secret or a cookie out of
 * printouts: `JSON.stringify` and `util.inspect` (so `console.log` and
 * loggers) show `summary()` instead. Both hooks are non-enumerable, so the
 * object's own keys, `Object.keys` and equality checks are unchanged.
 *
 * @example
 * ```ts
 * hidePrinting(tokenSet, 'TokenSet', () => ({ tokenType: tokenSet.tokenType }));
 * ```
 */
export function hidePrinting<T extends object>(target: T, name: string, summary: () => Record<string, unknown>): T {
  Object.defineProperty(target, 'toJSON', { value: summary, enumerable: false, configurable: true, writable: true });
  Object.defineProperty(target, inspect.custom, {
    value: (_depth: number, options: object) => `${name} ${inspect(summary(), options)}`,
    enumerable: false,
    configurable: true,
    writable: true,
  });
  return target;
}

/** What is printed in place of a secret value. */
export const REDACTED = '[redacted]';

/**
 * `hidePrinting` with every field of `target` printed as it is but `secretFields`, printed as
 * `[redacted]`; the fields stay readable in code.
 */
export function hideFields<T extends object>(target: T, name: string, secretFields: readonly (keyof T)[]): T {
  return hidePrinting(target, name, () => {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(target)) out[key] = secretFields.includes(key as keyof T) ? REDACTED : value;
    return out;
  });
}
