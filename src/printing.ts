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
