/**
 * Faults between an app and the real test OP, at the app's side of the
 * network: the app process's `fetch` (the library's only way to the OP) is
 * wrapped so requests to the OP's token endpoint can be answered 503 (as a
 * load balancer in front of a failing OP does), hang until the caller gives
 * up (a partitioned or stuck OP), or be held: sent to the OP, which handles
 * them (and rotates the refresh token), while the answer is held back (a
 * process that dies in that moment never reads it). Everything else goes to
 * the OP untouched; the OP itself is never mocked.
 */

export type TokenFault =
  /** no fault */
  | 'none'
  /** answer 503 without asking the OP */
  | '503'
  /** never answer (until the caller's abort signal fires) */
  | 'hang'
  /** hold the request before it reaches the OP (the caller holds the refresh lock meanwhile) */
  | 'hold-before'
  /** let the OP answer, then hold the answer back */
  | 'hold-after';

export interface OpFaults {
  fault: TokenFault;
  /** token endpoint requests the app made, faulted or not */
  readonly calls: number;
  /** runs `hook` once the OP answered a token request (before the app reads it); may be async */
  afterToken: ((response: Response) => void | Promise<void>) | undefined;
  /** called when a request is held ('hold-before', 'hold-after') */
  onHold: (() => void) | undefined;
  /** lets held requests go on */
  releaseHeld(): void;
  /** restores the real fetch */
  restore(): void;
}

function hangUntilAborted(signal: AbortSignal | null | undefined): Promise<never> {
  return new Promise((_, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/** Wraps `globalThis.fetch` for requests to `${issuer}/token`. */
export function injectOpFaults(issuer: string): OpFaults {
  const realFetch = globalThis.fetch;
  const tokenEndpoint = `${issuer}/token`;
  let held: Array<() => void> = [];
  const waitHeld = (signal: AbortSignal | null | undefined) =>
    Promise.race([new Promise<void>((resolve) => held.push(resolve)), hangUntilAborted(signal)]);
  const state: OpFaults = {
    fault: 'none',
    calls: 0,
    afterToken: undefined,
    onHold: undefined,
    releaseHeld() {
      const waiting = held;
      held = [];
      for (const resolve of waiting) resolve();
    },
    restore() {
      globalThis.fetch = realFetch;
    },
  };
  let calls = 0;
  Object.defineProperty(state, 'calls', { get: () => calls });
  globalThis.fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!url.startsWith(tokenEndpoint)) return realFetch(input, init);
    calls += 1;
    const signal = init?.signal;
    switch (state.fault) {
      case '503':
        return new Response('<html><body>503 Service Unavailable</body></html>', { status: 503, headers: { 'content-type': 'text/html' } });
      case 'hang':
        return hangUntilAborted(signal);
      case 'hold-before':
        state.onHold?.();
        await waitHeld(signal);
        return realFetch(input, init);
      case 'hold-after': {
        const response = await realFetch(input, init);
        state.onHold?.();
        await waitHeld(signal);
        return response;
      }
      default: {
        const response = await realFetch(input, init);
        await state.afterToken?.(response.clone());
        return response;
      }
    }
  };
  return state;
}
