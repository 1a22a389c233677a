/**
 * `continuum-proxy keygen field|agreement|audit`: the keys an operator needs before the server
 * runs. A field key is 32 random bytes (base64url) with an id, printed as environment lines; an
 * agreement key is an X25519 private key written as PKCS#8 PEM (mode 0600) with the fingerprint
 * clients pin; an audit key pair signs the audit log. Files are never overwritten.
 */
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { fingerprint, generateAgreementKeyPair } from '../src/index'
import { auditKeygenCommand } from './audit-keygen-command'
import { type CliCommand, CliUsageError, commandGroup, EXIT } from './cli-command'
import { KEYGEN } from './command-names'
import { parseOrUsage } from './parse-command-args'

const FIELD = `Usage: continuum-proxy keygen field [--id <key id>]

Prints a new 32-byte field key (base64url) and its id as environment lines, e.g. for
keys: { keys: [{ id: process.env.CONTINUUM_KEY_ID, key: process.env.CONTINUUM_KEY }] }.
Give the same key to the clients through your secret manager; never commit it.`

const AGREEMENT = `Usage: continuum-proxy keygen agreement --out <file>

Writes a new X25519 agreement private key to <file> (PKCS#8 PEM, mode 0600; never overwrites)
and prints the fingerprint clients pin: createEncryptedFetch({ agreement: { fingerprint } }).`

/** The key ids the keyring accepts (cipher/format.ts). */
const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/

function today(): string {
  return new Date().toISOString().slice(0, 10).replaceAll('-', '')
}

const field: CliCommand = {
  name: 'field',
  summary: 'a 32-byte field key and its id, as environment lines',
  async run(args, io) {
    const { values, positionals } = parseOrUsage(
      () =>
        parseArgs({
          args: [...args],
          options: { id: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
          allowPositionals: true,
          strict: true,
        }),
      FIELD,
    )
    if (values.help === true) {
      io.stdout(FIELD)
      return EXIT.ok
    }
    if (positionals.length > 0) throw new CliUsageError(`unexpected argument: ${positionals[0]}`, FIELD)
    const id = values.id ?? `k${today()}`
    if (!KEY_ID.test(id)) throw new CliUsageError('--id: 1 to 64 letters, digits, "_" or "-"', FIELD)
    io.stdout(`CONTINUUM_KEY_ID=${id}\nCONTINUUM_KEY=${randomBytes(32).toString('base64url')}`)
    return EXIT.ok
  },
}

const agreement: CliCommand = {
  name: 'agreement',
  summary: 'an X25519 agreement private key file and the fingerprint clients pin',
  async run(args, io) {
    const { values, positionals } = parseOrUsage(
      () =>
        parseArgs({
          args: [...args],
          options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
          allowPositionals: true,
          strict: true,
        }),
      AGREEMENT,
    )
    if (values.help === true) {
      io.stdout(AGREEMENT)
      return EXIT.ok
    }
    if (positionals.length > 0) throw new CliUsageError(`unexpected argument: ${positionals[0]}`, AGREEMENT)
    if (values.out === undefined) throw new CliUsageError('--out <file> is required', AGREEMENT)
    const pair = generateAgreementKeyPair()
    try {
      writeFileSync(values.out, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), {
        mode: 0o600,
        flag: 'wx',
      })
    } catch (error) {
      throw new CliUsageError(
        `cannot write ${values.out} (${(error as { code?: string }).code ?? 'error'})`,
        AGREEMENT,
      )
    }
    io.stdout(`private key: ${values.out}\nfingerprint: ${fingerprint(pair.publicKeyBytes)}`)
    return EXIT.ok
  },
}

export const keygenCommand = commandGroup(KEYGEN.name, KEYGEN.summary, [
  field,
  agreement,
  { ...auditKeygenCommand, name: 'audit' },
])
