/**
 * The contract every `continuum-proxy` subcommand implements, kept apart from the dispatcher so a
 * new command is one new file plus one line in its group. Commands write through `CliIo` rather
 * than to `process.stdout`, so tests run them in-process, and return an exit code rather than
 * calling `process.exit`, so pending output is never cut off.
 */

/** Exit codes shared by every command. */
export const EXIT = {
  /** The command did what was asked (for `verify`: the log verified). */
  ok: 0,
  /** The command ran and found a problem (for `verify`: a bad record). */
  failed: 1,
  /** Bad arguments, or an input that cannot be read or parsed (a key, a missing file). */
  usage: 2,
} as const

/** Where a command writes: lines to stdout and stderr. */
export interface CliIo {
  stdout(text: string): void
  stderr(text: string): void
}

/** A subcommand. */
export interface CliCommand {
  /** The word that selects it, e.g. `verify`. */
  readonly name: string
  /** One line for the help text. */
  readonly summary: string
  /** Runs with the arguments after its name and resolves the exit code. */
  run(args: readonly string[], io: CliIo): Promise<number>
}

/** Thrown for bad arguments: the dispatcher prints the message and the usage, and exits 2. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError'
  constructor(
    message: string,
    /** Usage text of the command that refused the arguments. */
    readonly usage: string,
  ) {
    super(message)
  }
}

/** A group of subcommands (`audit verify`, `audit keygen`), itself a command. */
export function commandGroup(name: string, summary: string, commands: readonly CliCommand[]): CliCommand {
  const usage = [
    `Usage: continuum-proxy ${name} <command> [options]`,
    '',
    'Commands:',
    ...commands.map((command) => `  ${command.name.padEnd(10)} ${command.summary}`),
  ].join('\n')
  return {
    name,
    summary,
    async run(args, io) {
      const [word, ...rest] = args
      if (word === undefined || word === '--help' || word === '-h' || word === 'help') {
        io.stdout(usage)
        return word === undefined ? EXIT.usage : EXIT.ok
      }
      const command = commands.find((candidate) => candidate.name === word)
      if (command === undefined) throw new CliUsageError(`Unknown command: ${name} ${word}`, usage)
      return command.run(rest, io)
    },
  }
}
