/**
 * Authentication levels of browser logins (RFC 9470 step-up): the `acr` and `amr` a login gets,
 * and the login prompt a request for a level the session lacks triggers. `options.stepUp` picks
 * how the OP answers `acr_values`: honour it, ignore it, or answer as Auth0 does.
 */
import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';

import type { OPState } from './state.js';

/** The level of a password login. */
export const LOA_PASSWORD = 'urn:test:loa:pwd';
/** A stronger level the OP also knows. */
export const LOA_STRONG = 'urn:test:loa:strong';
export const PAPE_MULTI_FACTOR = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';
/** acr_values_supported */
export const ACR_VALUES = [LOA_PASSWORD, LOA_STRONG, PAPE_MULTI_FACTOR] as const;

function requestedAcrs(value: unknown): string[] {
  return typeof value === 'string' ? value.split(' ').filter(Boolean) : [];
}

/**
 * The `acr` / `amr` of a login that answered `acr_values`: with 'honour', the first requested value
 * the OP supports (the user "did" what it takes: a second factor for the PAPE policy).
 */
export function authenticationLevel(state: OPState, acrValues: unknown): { acr?: string; amr: string[] } {
  const mode = state.options.stepUp ?? 'honour';
  const asked = requestedAcrs(acrValues).find((acr) => (ACR_VALUES as readonly string[]).includes(acr));
  if (mode === 'ignore' || asked === undefined || asked === LOA_PASSWORD) return { acr: LOA_PASSWORD, amr: ['pwd'] };
  if (asked === PAPE_MULTI_FACTOR) return mode === 'auth0' ? { amr: ['pwd', 'mfa'] } : { acr: asked, amr: ['pwd', 'otp', 'mfa'] };
  return { acr: asked, amr: ['pwd', 'otp'] };
}

/**
 * oidc-provider's default policy, plus: a login that asks (voluntarily) for acr values the session
 * does not have prompts a new login, as an OP performing step-up does. With 'ignore' it does not.
 */
export function interactionPolicyFor(state: OPState): interactionPolicy.Prompt[] {
  const policy = interactionPolicy.base();
  if ((state.options.stepUp ?? 'honour') === 'ignore') return policy;
  const login = policy.get('login');
  if (!login) throw new Error('test OP: the default interaction policy has no login prompt');
  login.checks.add(
    new interactionPolicy.Check('acr_values_not_met', 'the session does not meet the requested acr_values', (ctx: KoaContextWithOIDC) => {
      const asked = requestedAcrs(ctx.oidc.params?.acr_values);
      if (asked.length === 0) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      const session = ctx.oidc.session;
      const met = asked.includes(String(session?.acr)) || (asked.includes(PAPE_MULTI_FACTOR) && (session?.amr ?? []).includes('mfa'));
      return met ? interactionPolicy.Check.NO_NEED_TO_PROMPT : interactionPolicy.Check.REQUEST_PROMPT;
    }),
  );
  return policy;
}
