/**
 * `continuum-proxy audit verify <file> --public-key <key>`: verifies a JSON Lines audit log and
 * exits 0 when every record verifies, 1 naming the first bad record (line, seq, reason), 2 on
 * usage errors or an unreadable log or key. `--public-key` takes a path to a PEM (or base64) file,
 * or the raw key in base64; repeat it for a log that spans a key rotation.
 */
import { existsSync, readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { type AuditVerifyKeyInput, parseAuditPublicKey, verifyAuditLog } from '../src/audit'
import { type CliCommand, CliUsageError, EXIT } from './cli-command'
import { integerOption, parseOrUsage } from './parse-command-args'

const USAGE = `Usage: continuum-proxy audit verify <file> --public-key <key> [options]

Verifies the hash chain and Ed25519 signatures of an audit log (and the ML-DSA-65 signatures of a
log signed with a hybrid key).

Options:
  --public-key <key>       PEM file path, the raw 32-byte public key in base64, or a hybrid public
                           key file from \`model keygen\` (repeatable)
  --anchor <hex>           prevHash expected on the first record (default: 64 zeros)
  --first-seq <n>          seq expected on the first record (default: 0)
  --expect-last-seq <n>    fail when the log ends before this seq (detects a cut-off end)
  --expect-last-hash <hex> with --expect-last-seq: the hash of the head kept elsewhere; fail when
                           the record of that seq has another (an end cut off, then written over)
  --json                   print the result as JSON
  -h, --help               show this help

Exit codes: 0 verified, 1 a bad record was found, 2 usage error or unreadable log or key.`

export const auditVerifyCommand: CliCommand = {
  name: 'verify',
  summary: 'verify the hash chain and signatures of an audit log',
  async run(args, io) {
    const { values, positionals } = parseOrUsage(
      () =>
        parseArgs({
          args: [...args],
          options: {
            'public-key': { type: 'string', multiple: true },
            anchor: { type: 'string' },
            'first-seq': { type: 'string' },
            'expect-last-seq': { type: 'string' },
            'expect-last-hash': { type: 'string' },
            json: { type: 'boolean' },
            help: { type: 'boolean', short: 'h' },
          },
          allowPositionals: true,
          strict: true,
        }),
      USAGE,
    )
    if (values.help === true) {
      io.stdout(USAGE)
      return EXIT.ok
    }
    if (positionals.length !== 1) throw new CliUsageError('expected exactly one log file', USAGE)
    const keyArguments = values['public-key'] ?? []
    if (keyArguments.length === 0) throw new CliUsageError('--public-key is required', USAGE)
    const publicKeys = keyArguments.map(loadPublicKey)

    const result = await verifyAuditLog(positionals[0]!, publicKeys, {
      anchor: values.anchor,
      firstSeq: integerOption(values['first-seq'], 'first-seq', USAGE),
      expectLastSeq: integerOption(values['expect-last-seq'], 'expect-last-seq', USAGE),
      expectLastHash: values['expect-last-hash'],
    })
    if (values.json === true) {
      io.stdout(JSON.stringify(result))
    } else if (result.ok) {
      const range =
        result.records === 0 ? 'empty log' : `seq ${result.lastSeq! - result.records + 1}..${result.lastSeq}`
      io.stdout(`OK: ${result.records} records verified (${range})`)
      if (result.lastHash !== undefined) io.stdout(`last hash: ${result.lastHash}`)
      if (result.dropped > 0)
        io.stdout(`warning: the writer recorded ${result.dropped} dropped records (queue full)`)
    } else {
      const bad = result.firstBad!
      io.stdout(`FAILED: line ${bad.line}, seq ${bad.seq ?? 'unknown'}: ${bad.reason}`)
      io.stdout(bad.message)
      io.stdout(`${result.records} records verified before it`)
    }
    return result.ok ? EXIT.ok : EXIT.failed
  },
}

/** A path to a PEM, base64 or hybrid key (JSON) file when one exists there, else the key itself. */
function loadPublicKey(argument: string) {
  let text = argument
  if (existsSync(argument)) {
    try {
      text = readFileSync(argument, 'utf8')
    } catch (error) {
      throw new CliUsageError(
        `cannot read the public key file (${(error as { code?: string }).code ?? 'error'})`,
        USAGE,
      )
    }
  }
  const trimmed = text.trim()
  // A hybrid public key document: verifyAuditLog checks its fields and requires both signatures.
  if (trimmed.startsWith('{')) {
    try {
      return JSON.parse(trimmed) as AuditVerifyKeyInput
    } catch {
      throw new CliUsageError('the public key file is not valid JSON', USAGE)
    }
  }
  return parseAuditPublicKey(trimmed)
}
