/**
 * Drops oidc-provider's console notices ("oidc-provider NOTICE: ...", "oidc-provider WARNING: ...").
 *
 * oidc-provider prints them through console.info / console.warn: an "Unsupported runtime" warning
 * when its module is evaluated on Node 20, and "default X function called, you SHOULD change it"
 * notices the first time a default helper runs. Under jest every console call is printed with a
 * stack trace, which buries real output. This module must be imported BEFORE 'oidc-provider'
 * (ES modules evaluate their imports in order), which op.ts does.
 *
 * Set OP_DEBUG=1 to see the notices again.
 */

const PREFIXES = ['oidc-provider NOTICE', 'oidc-provider WARNING'];

function isProviderNotice(args: unknown[]): boolean {
  const first = args[0];
  // the text may be wrapped in ANSI colour codes when stdout is a TTY, hence includes()
  return typeof first === 'string' && PREFIXES.some((prefix) => first.includes(prefix));
}

// Patch once per console object (jest gives every test file its own console).
const MARK = Symbol.for('express-oidc.test.quietConsole');
const target = console as Console & { [MARK]?: true };

if (!process.env.OP_DEBUG && !target[MARK]) {
  target[MARK] = true;
  for (const method of ['info', 'warn', 'log'] as const) {
    const original = target[method].bind(target);
    target[method] = (...args: unknown[]) => {
      if (!isProviderNotice(args)) original(...args);
    };
  }
}

export {};
