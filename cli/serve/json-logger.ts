/**
 * The server's logger: one JSON object per line (`time`, `level`, `msg`, then the fields), the
 * shape log shippers read from pino. It implements the library's Logger, so the proxy, the
 * router and the stages write through it; callers pass only content-free fields, and JSON
 * escaping keeps any value on its own line.
 */
import type { LogFields, Logger } from '../../src/index'

/** The levels, lowest first; `silent` writes nothing. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/** A logger writing JSON lines (without their newline) at `level` and above through `write`. */
export function jsonLogger(
  level: LogLevel,
  write: (line: string) => void,
  now: () => number = Date.now,
): Logger {
  const threshold = LOG_LEVELS.indexOf(level)
  const at =
    (name: Exclude<LogLevel, 'silent'>) =>
    (fields: LogFields, message: string): void => {
      if (LOG_LEVELS.indexOf(name) < threshold) return
      write(JSON.stringify({ time: now(), level: name, msg: message, ...fields }))
    }
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}
