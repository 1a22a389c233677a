/**
 * Argument helpers shared by commands: `node:util` parseArgs errors become usage errors, so every
 * command reports bad arguments the same way (message, usage, exit 2).
 */
import { CliUsageError } from './cli-command'

/** Runs a parseArgs call, turning its TypeError (unknown option, missing value) into a usage error. */
export function parseOrUsage<T>(parse: () => T, usage: string): T {
  try {
    return parse()
  } catch (error) {
    throw new CliUsageError((error as Error).message, usage)
  }
}

/** Parses a non-negative integer option, or refuses with a usage error naming it. */
export function integerOption(value: string | undefined, name: string, usage: string): number | undefined {
  if (value === undefined) return undefined
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new CliUsageError(`--${name} must be a non-negative integer`, usage)
  }
  return Number(value)
}
