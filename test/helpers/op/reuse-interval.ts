import type { KoaContextWithOIDC } from 'oidc-provider';

import type { OPState } from './state.js';

/**
 * Auth0's refresh token "reuse interval": for `refreshTokenReuseInterval`
 * seconds after a refresh token was rotated, presenting it again is not
 * treated as theft; the grant goes on from the newest refresh token of its
 * family (so the caller gets fresh tokens and a new refresh token). After the
 * interval, a reuse revokes the grant as oidc-provider always does.
 */
interface Rotation {
  /** epoch ms of the rotation */
  at: number;
  successor: string;
}

const families = new WeakMap<OPState, Map<string, Rotation>>();

function rotationsOf(state: OPState): Map<string, Rotation> {
  let map = families.get(state);
  if (map === undefined) {
    map = new Map();
    families.set(state, map);
  }
  return map;
}

/** After a successful refresh_token grant: remembers which refresh token replaced which. */
export function recordRotation(state: OPState, oidc: KoaContextWithOIDC['oidc'], body: Record<string, unknown>): void {
  if (!state.options.refreshTokenReuseInterval || oidc.params?.grant_type !== 'refresh_token') return;
  const presented = oidc.params.refresh_token;
  const successor = body.refresh_token;
  if (typeof presented !== 'string' || typeof successor !== 'string' || presented === successor) return;
  rotationsOf(state).set(presented, { at: Date.now(), successor });
}

/**
 * Before the token endpoint: a refresh token rotated less than the interval
 * ago is swapped for the newest one of its family (`params` is rewritten).
 * Returns whether it was swapped.
 */
export function applyReuseInterval(state: OPState, params: URLSearchParams): boolean {
  const interval = state.options.refreshTokenReuseInterval;
  if (!interval || params.get('grant_type') !== 'refresh_token') return false;
  const rotations = rotationsOf(state);
  const presented = params.get('refresh_token') ?? '';
  const first = rotations.get(presented);
  if (first === undefined || Date.now() - first.at > interval * 1000) return false;
  let newest = first.successor;
  for (let hops = 0; hops < 100; hops += 1) {
    const next = rotations.get(newest);
    if (next === undefined) break;
    newest = next.successor;
  }
  params.set('refresh_token', newest);
  state.counts.reusedInInterval += 1;
  return true;
}
