/**
 * The `continuum-proxy` dispatcher: picks the command from the first argument and turns usage
 * errors and library errors into a message on stderr and exit code 2. Library errors carry only
 * their stable code and content-free message; a stack trace is never printed to operators.
 * Adding a command group is one line in COMMANDS.
 */
import { ContinuumError } from '../src/index'
import { auditCommand } from './audit-command'
import { type CliCommand, type CliIo, CliUsageError, EXIT } from './cli-command'
import { fingerprintCommand } from './fingerprint-command'
import { keygenCommand } from './keygen-command'
import { modelCommand } from './model-command'
import { serveCommand } from './serve-command'

const COMMANDS: readonly CliCommand[] = [
  serveCommand(),
  keygenCommand,
  fingerprintCommand(),
  auditCommand,
  modelCommand,
]

const USAGE = [
  'Usage: continuum-proxy <command> [options]',
  '',
  'Commands:',
  ...COMMANDS.map((command) => `  ${command.name.padEnd(10)} ${command.summary}`),
  '',
  'Run `continuum-proxy <command> --help` for the options of a command.',
].join('\n')

/** Runs the CLI with arguments (without `node` and the script) and resolves the exit code. */
export async function runCli(args: readonly string[], io: CliIo): Promise<number> {
  const [word, ...rest] = args
  try {
    if (word === undefined || word === '--help' || word === '-h' || word === 'help') {
      io.stdout(USAGE)
      return word === undefined ? EXIT.usage : EXIT.ok
    }
    const command = COMMANDS.find((candidate) => candidate.name === word)
    if (command === undefined) throw new CliUsageError(`Unknown command: ${word}`, USAGE)
    return await command.run(rest, io)
  } catch (error) {
    if (error instanceof CliUsageError) {
      io.stderr(`error: ${error.message}\n\n${error.usage}`)
      return EXIT.usage
    }
    if (ContinuumError.isInstance(error)) {
      io.stderr(`error: ${error.code}: ${error.message}`)
      return EXIT.usage
    }
    throw error
  }
}
