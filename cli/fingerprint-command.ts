/**
 * `continuum-proxy fingerprint <server-url | key-file>`: the fingerprint a client pins. Given a
 * server's URL it fetches the published agreement key and computes the fingerprint of the key
 * itself (it never repeats the server's own claim, and says so when the claim differs); given an
 * agreement private key file it computes it offline, before the server runs. A hybrid server's
 * fingerprint covers its ML-KEM key too (docs/PROTOCOL.md §1.2): the X25519 key's hash alone is
 * the pin of a classical document, which would let a relay strip ML-KEM from the pinned clients.
 * It also covers whether the server agrees classically with clients that lack ML-KEM, so the pin
 * printed for a `classical: true` key is another than for the same key without.
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import {
  AGREEMENT_KEY_PATH,
  fingerprint,
  HYBRID_AGREEMENT,
  hybridFingerprint,
  loadAgreementPrivateKey,
} from '../src/index'
import { type CliCommand, CliUsageError, EXIT } from './cli-command'
import { FINGERPRINT } from './command-names'
import { parseOrUsage } from './parse-command-args'

const USAGE = `Usage: continuum-proxy fingerprint <server-url | agreement-key-file>

Prints the fingerprint to pin in createEncryptedFetch({ agreement: { fingerprint } }):
of the key a server publishes at ${AGREEMENT_KEY_PATH} under the proxy's mount URL (e.g.
https://llm.example, or https://llm.example/llm when the proxy is mounted under /llm),
or of an agreement private key file (offline).`

/** Fetches the published key; the `fetch` is injectable for tests. */
async function fromServer(
  url: string,
  fetcher: typeof fetch,
): Promise<{ computed: string; claimed: unknown; keyId: unknown }> {
  const base = new URL(url)
  // The key is published under the proxy's mount point, as the client fetches it.
  const mount = `${base.origin}${base.pathname.replace(/\/$/, '')}`
  const response = await fetcher(`${mount}${AGREEMENT_KEY_PATH}`, { redirect: 'error' })
  if (!response.ok) {
    await response.body?.cancel()
    const hint = /\/v\d+$/.test(mount)
      ? ` (give the proxy's mount URL, without the SDK's version segment: ${mount.replace(/\/v\d+$/, '')})`
      : ''
    throw new CliUsageError(`${mount} answered ${response.status} for ${AGREEMENT_KEY_PATH}${hint}`, USAGE)
  }
  const document = (await response.json().catch(() => ({}))) as {
    algorithm?: unknown
    publicKey?: unknown
    mlKemPublicKey?: unknown
    fingerprint?: unknown
    classical?: unknown
    keyId?: unknown
  }
  const bytes = decoded(document.publicKey)
  if (bytes.length !== 32) throw new CliUsageError(`${base.origin} published no X25519 agreement key`, USAGE)
  if (document.algorithm !== HYBRID_AGREEMENT) {
    return { computed: fingerprint(bytes), claimed: document.fingerprint, keyId: document.keyId }
  }
  const mlKem = decoded(document.mlKemPublicKey)
  if (mlKem.length !== ML_KEM_768_PUBLIC_KEY_BYTES) {
    throw new CliUsageError(`${base.origin} published a hybrid key without its ML-KEM-768 key`, USAGE)
  }
  if (document.classical !== undefined && typeof document.classical !== 'boolean') {
    throw new CliUsageError(
      `${base.origin} published a hybrid key whose classical flag is not a boolean`,
      USAGE,
    )
  }
  return {
    computed: hybridFingerprint(mlKem, bytes, document.classical === true),
    claimed: document.fingerprint,
    keyId: document.keyId,
  }
}

/** Bytes of an ML-KEM-768 encapsulation key (FIPS 203). */
const ML_KEM_768_PUBLIC_KEY_BYTES = 1184

function decoded(value: unknown): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'base64url') : Buffer.alloc(0)
}

/** The command, with an injectable fetch. */
export function fingerprintCommand(fetcher: typeof fetch = globalThis.fetch): CliCommand {
  return {
    ...FINGERPRINT,
    async run(args, io) {
      const { values, positionals } = parseOrUsage(
        () =>
          parseArgs({
            args: [...args],
            options: { help: { type: 'boolean', short: 'h' } },
            allowPositionals: true,
            strict: true,
          }),
        USAGE,
      )
      if (values.help === true) {
        io.stdout(USAGE)
        return EXIT.ok
      }
      if (positionals.length !== 1) throw new CliUsageError('give one server URL or key file', USAGE)
      const target = positionals[0]!
      if (/^https?:\/\//i.test(target)) {
        const { computed, claimed, keyId } = await fromServer(target, fetcher)
        io.stdout(`fingerprint: ${computed}${typeof keyId === 'string' ? `\nkey id: ${keyId}` : ''}`)
        if (claimed !== computed) {
          io.stderr('warning: the server states another fingerprint than its key has; do not pin it')
          return EXIT.failed
        }
        return EXIT.ok
      }
      let text: string
      try {
        text = readFileSync(target, 'utf8')
      } catch (error) {
        throw new CliUsageError(
          `cannot read ${target} (${(error as { code?: string }).code ?? 'error'})`,
          USAGE,
        )
      }
      io.stdout(`fingerprint: ${fingerprint(loadAgreementPrivateKey(text).publicKeyBytes)}`)
      return EXIT.ok
    },
  }
}
