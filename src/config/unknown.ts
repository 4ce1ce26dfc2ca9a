/**
 * Options the schema does not know: every key of a closed object is checked,
 * and a key that is not an option fails at start-up, with the nearest option
 * name when it looks like a typo, or with what to use instead when it is an
 * express-openid-connect option this library does not take.
 */
import { OidcError } from '../errors.js';
import type { OptionSpec } from './schema.js';

/**
 * Objects whose keys are free-form (they are passed on as they are), so no
 * key of theirs is a typo. Every other object that has options of its own is
 * closed.
 */
const OPEN_OBJECTS = new Set(['authorizationParams']);

/**
 * express-openid-connect options this library does not take, with what an app
 * moving over writes instead. Only consulted for a key the schema does not
 * know, so an option added to the schema later wins over its entry here.
 */
export const INCUMBENT_ONLY: Readonly<Record<string, string>> = {
  auth0Logout: 'use "idpLogout: true" (Auth0\'s /v2/logout is used when the tenant has no end-session endpoint)',
  enableTelemetry: 'remove it (no telemetry is sent)',
  legacySameSiteCookie: 'remove it (no fallback cookie is set for old browsers)',
  httpUserAgent: 'remove it',
  'session.genid': 'remove it (express-session creates a random session id; a back-channel logout finds the session through backchannelLogout.index)',
  'session.signSessionStoreCookie': 'remove it (the session cookie is always signed)',
  'session.requireSignedSessionStoreCookie': 'remove it (the session cookie is always signed)',
};

/** Levenshtein distance, case-insensitive: `clientId` is one edit from `clientID`... and zero here. */
function distance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let previous = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= t.length; j += 1) {
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + (s[i - 1] === t[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[t.length] as number;
}

/** The known key nearest to `key` when it is close enough to be a typo of it. */
export function nearest(key: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const d = distance(key, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  // A third of the name, at least 2: "authRequied" finds "authRequired", "store" does not find "name".
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

function refuse(message: string): never {
  throw new OidcError('ERR_CONFIG_INVALID', message, { status: 500 });
}

/** The paths of every closed object: the top level and each object option that has options of its own. */
function closedObjects(specs: readonly OptionSpec[]): string[] {
  const parents = new Set<string>(['']);
  for (const spec of specs) {
    const dot = spec.path.lastIndexOf('.');
    if (dot > 0) parents.add(spec.path.slice(0, dot));
  }
  return [...parents].filter((path) => !OPEN_OBJECTS.has(path));
}

/**
 * Throws `ERR_CONFIG_INVALID` for the first key of a closed object that is not
 * an option. Keys are names the app wrote, never values, so they may be shown.
 */
export function checkUnknownOptions(input: Record<string, unknown>, specs: readonly OptionSpec[]): void {
  const known = new Set(specs.map((s) => s.path));
  for (const prefix of closedObjects(specs)) {
    const node = prefix === '' ? input : valueAt(input, prefix);
    if (typeof node !== 'object' || node === null || Array.isArray(node)) continue;
    for (const key of Object.keys(node)) {
      const path = prefix === '' ? key : `${prefix}.${key}`;
      if (known.has(path)) continue;
      const instead = INCUMBENT_ONLY[path];
      if (instead !== undefined) refuse(`Option "${path}" of express-openid-connect is not supported: ${instead}.`);
      const head = prefix === '' ? '' : `${prefix}.`;
      const siblings = [...known].filter((p) => p.startsWith(head) && !p.slice(head.length).includes('.')).map((p) => p.slice(head.length));
      const suggestion = nearest(key, siblings);
      refuse(`Unknown option "${path}".${suggestion === undefined ? '' : ` Did you mean "${head}${suggestion}"?`}`);
    }
  }
}

/** The value at a dotted option path (`session.cookie.domain`), or undefined where the path stops. */
export function valueAt(source: Record<string, unknown>, path: string): unknown {
  let value: unknown = source;
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}
