/**
 * The `continuum-proxy` dispatcher: picks the command from the first argument and turns usage
 * errors and library errors into a message on stderr and exit code 2. Library errors carry only
 * their stable code and content-free message; a stack trace is never printed to operators.
 * Adding a command is its name in command-names.ts and one line in COMMANDS; a command's module
 * is loaded only when it runs.
 */
import { type CliCommand, type CliIo, CliUsageError, EXIT } from './cli-command'
import { AUDIT, type CommandName, FINGERPRINT, KEYGEN, MODEL, SERVE } from './command-names'

/** A top-level command: listed from its name, its module loaded when it runs. */
interface LazyCommand extends CommandName {
  load(): Promise<CliCommand>
}

const COMMANDS: readonly LazyCommand[] = [
  { ...SERVE, load: async () => (await import('./serve-command')).serveCommand() },
  { ...KEYGEN, load: async () => (await import('./keygen-command')).keygenCommand },
  { ...FINGERPRINT, load: async () => (await import('./fingerprint-command')).fingerprintCommand() },
  { ...AUDIT, load: async () => (await import('./audit-command')).auditCommand },
  { ...MODEL, load: async () => (await import('./model-command')).modelCommand },
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
    return await (await command.load()).run(rest, io)
  } catch (error) {
    if (error instanceof CliUsageError) {
      io.stderr(`error: ${error.message}\n\n${error.usage}`)
      return EXIT.usage
    }
    // Loaded here, not at start: the error class brings the package's root entry with it.
    const { ContinuumError } = await import('../src/index')
    if (ContinuumError.isInstance(error)) {
      io.stderr(`error: ${error.code}: ${error.message}`)
      return EXIT.usage
    }
    throw error
  }
}
