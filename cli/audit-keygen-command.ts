/**
 * `continuum-proxy audit keygen [--out <prefix>]`: makes an Ed25519 key pair for the audit log.
 * With `--out` it writes `<prefix>.key` (PKCS#8 PEM, mode 0600) and `<prefix>.pub` (SPKI PEM),
 * refusing to overwrite either; without it prints both PEMs, for piping into a secret manager.
 */
import { rmSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { generateAuditKeyPair } from '../src/audit'
import { type CliCommand, CliUsageError, EXIT } from './cli-command'
import { parseOrUsage } from './parse-command-args'

const USAGE = `Usage: continuum-proxy audit keygen [--out <prefix>]

Generates an Ed25519 key pair for signing audit records.

Options:
  --out <prefix>   write <prefix>.key (private, mode 0600) and <prefix>.pub; never overwrites
  -h, --help       show this help

Without --out, the private and public PEM are printed to stdout.`

export const auditKeygenCommand: CliCommand = {
  name: 'keygen',
  summary: 'generate an Ed25519 key pair for signing audit records',
  async run(args, io) {
    const { values, positionals } = parseOrUsage(
      () =>
        parseArgs({
          args: [...args],
          options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
          allowPositionals: true,
          strict: true,
        }),
      USAGE,
    )
    if (values.help === true) {
      io.stdout(USAGE)
      return EXIT.ok
    }
    if (positionals.length > 0) throw new CliUsageError(`unexpected argument: ${positionals[0]}`, USAGE)
    const keys = generateAuditKeyPair()
    if (values.out === undefined) {
      io.stdout(`${keys.privateKeyPem.trim()}\n${keys.publicKeyPem.trim()}`)
      return EXIT.ok
    }
    // 'wx' refuses to replace a key that may already sign a log; the public half goes first so a
    // clash leaves no orphan private key behind.
    writeKeyFile(`${values.out}.pub`, keys.publicKeyPem, 0o644)
    try {
      writeKeyFile(`${values.out}.key`, keys.privateKeyPem, 0o600)
    } catch (error) {
      rmSync(`${values.out}.pub`, { force: true })
      throw error
    }
    io.stdout(`private key: ${values.out}.key\npublic key:  ${values.out}.pub`)
    io.stdout(`public key (base64): ${keys.publicKeyRaw}\nkey id: ${keys.keyId}`)
    return EXIT.ok
  },
}

function writeKeyFile(path: string, content: string, mode: number): void {
  try {
    writeFileSync(path, content, { mode, flag: 'wx' })
  } catch (error) {
    throw new CliUsageError(`cannot write ${path} (${(error as { code?: string }).code ?? 'error'})`, USAGE)
  }
}
