/**
 * The injectable logger, in pino's shape: `logger.info(fields, message)`. A pino logger (or
 * Fastify's `fastify.log`, which is one) is passed in as it is; so is `console`, which prints the
 * fields, then the message. Callers pass only content-free fields (codes, ids, sizes, durations):
 * never request bodies, decrypted values, paths with their queries, or keys.
 */

/** Structured fields of a log line. */
export type LogFields = Record<string, string | number | boolean | undefined>

/**
 * A structured logger with pino's call shape: the fields first, then the message.
 * @example
 * import pino from 'pino'
 * app.use(continuum({ upstream, keys, logger: pino() }))
 */
export interface Logger {
  debug(fields: LogFields, message: string): void
  info(fields: LogFields, message: string): void
  warn(fields: LogFields, message: string): void
  error(fields: LogFields, message: string): void
}

const noop = (): void => {}

/** The default: discards everything. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop }
