import { format } from 'node:util';
import createDebug from 'debug';

/**
 * A logger for apps that do not use `debug`: pino, winston, bunyan and
 * `console` all fit. Each call gets one line, already formatted, e.g.
 * `express-oidc:op token 35 ms (HTTP 200)`.
 */
export interface Logger {
  /** What the library did: routes handled, OP calls and their durations, sessions. */
  debug(message: string): void;
  /** Why a request was refused (a 4xx answer), with its error code. */
  info(message: string): void;
  /** A failure the app should look at: a failed code exchange, an OP or store error (5xx). */
  warn(message: string): void;
  /** Not used by the library today; part of the shape so that any logger fits. */
  error(message: string): void;
}

/** One area's log: call it for a debug line, or `.info` / `.warn` for the other levels. */
export interface Log {
  (formatString: string, ...args: unknown[]): void;
  info(formatString: string, ...args: unknown[]): void;
  warn(formatString: string, ...args: unknown[]): void;
  /** Whether a line would go anywhere: check it before any work done only to log. */
  readonly enabled: boolean;
}

/** Loggers given to `auth({ logger })`: every line of the library goes to each of them. */
const loggers = new Set<Logger>();

/** Sends the library's log lines to `logger` too (the same logger twice counts once). */
export function addLogger(logger: Logger): void {
  loggers.add(logger);
}

/**
 * Logs under `express-oidc:<area>` (enable with `DEBUG=express-oidc:*`, or
 * give `auth()` a `logger`). They tell what happened, never with which
 * values: no token, code, secret, password or cookie value is ever passed to
 * them. When neither is on, a call costs one check and formats nothing.
 */
export function debug(area: string): Log {
  const namespace = `express-oidc:${area}`;
  const out = createDebug(namespace);
  const at =
    (level: 'debug' | 'info' | 'warn') =>
    (formatString: string, ...args: unknown[]): void => {
      if (out.enabled) out(formatString, ...args);
      if (loggers.size === 0) return;
      const line = `${namespace} ${format(formatString, ...args)}`;
      for (const logger of loggers) logger[level](line);
    };
  const log = at('debug') as Log & { info: Log['info']; warn: Log['warn'] };
  log.info = at('info');
  log.warn = at('warn');
  Object.defineProperty(log, 'enabled', { get: () => out.enabled || loggers.size > 0 });
  return log;
}
