import { inspect } from 'node:util';

/**
 * Keeps the token values of a result out of `JSON.stringify` and
 * `util.inspect` (and so out of logs of the object); the fields stay readable.
 */
export function redacted<T extends object>(result: T, tokenFields: readonly (keyof T)[]): T {
  const visible = () => {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(result)) out[key] = tokenFields.includes(key as keyof T) ? '[redacted]' : value;
    return out;
  };
  Object.defineProperty(result, 'toJSON', { value: visible, enumerable: false });
  Object.defineProperty(result, inspect.custom, { value: () => visible(), enumerable: false });
  return result;
}
