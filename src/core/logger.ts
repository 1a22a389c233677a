/**
 * The injectable logger. Callers pass only content-free fields (codes, ids, sizes, durations):
 * never request bodies, decrypted values or keys. Compatible with pino and console-like loggers.
 */

/** Structured fields of a log line. */
export type LogFields = Record<string, string | number | boolean | undefined>

/** A minimal structured logger. */
export interface Logger {
  debug(message: string, fields?: LogFields): void
  info(message: string, fields?: LogFields): void
  warn(message: string, fields?: LogFields): void
  error(message: string, fields?: LogFields): void
}

const noop = (): void => {}

/** The default: discards everything. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop }
