/**
 * The `continuum-proxy model` group: signing keys (Ed25519, or hybrid Ed25519 + ML-DSA-65),
 * folder digests (SHA-256 or SHA3-256), signing and verifying model manifests. Verification
 * exits 1 naming the reason (signature, downgrade, model, digest), never printing key material.
 */

import { generateKeyPairSync } from 'node:crypto'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { ContinuumError } from '../src/index'
import {
  computeModelDigest,
  generateHybridSigningKeys,
  type ModelManifest,
  signModelManifest,
  verifyModelManifest,
} from '../src/router/index'
import { type CliCommand, CliUsageError, commandGroup, EXIT } from './cli-command'
import { MODEL } from './command-names'
import { parseOrUsage } from './parse-command-args'

const KEYGEN = `Usage: continuum-proxy model keygen --out <prefix> [--hybrid]

Generates a key pair for signing model manifests: Ed25519, or with --hybrid an Ed25519 and an
ML-DSA-65 (FIPS 204) key together (needs the @noble/post-quantum package).

Writes <prefix>.key (private, mode 0600) and <prefix>.pub; never overwrites.`

const DIGEST = `Usage: continuum-proxy model digest <folder> [--sha3]

Prints the deterministic digest of a weights folder (SHA-256, or SHA3-256 with --sha3).`

const SIGN = `Usage: continuum-proxy model sign --key <file> --model <name> --folder <folder> [--sha3] [--key-id <id>]

Prints a signed manifest (JSON) binding the model name to the folder's digest. A hybrid key
(model keygen --hybrid) gives a version 2 manifest with both signatures.`

const VERIFY = `Usage: continuum-proxy model verify <manifest.json> --folder <folder> --public-key <file> [--model <name>]

Exits 0 when the manifest's signature (both, for a hybrid key), model name and folder digest check
out; 1 naming the reason otherwise.`

function parse(
  args: readonly string[],
  usage: string,
  options: Record<string, { type: 'string' | 'boolean' }>,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  return parseOrUsage(
    () =>
      parseArgs({
        args: [...args],
        options: { ...options, help: { type: 'boolean', short: 'h' } },
        allowPositionals: true,
        strict: true,
      }),
    usage,
  )
}

function readText(path: string, usage: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    throw new CliUsageError(`cannot read ${path} (${(error as { code?: string }).code ?? 'error'})`, usage)
  }
}

function writeKeyFile(path: string, content: string, mode: number): void {
  try {
    writeFileSync(path, content, { mode, flag: 'wx' })
  } catch (error) {
    throw new CliUsageError(`cannot write ${path} (${(error as { code?: string }).code ?? 'error'})`, KEYGEN)
  }
}

const keygen: CliCommand = {
  name: 'keygen',
  summary: 'generate a manifest signing key pair (Ed25519, or --hybrid with ML-DSA-65)',
  async run(args, io) {
    const { values } = parse(args, KEYGEN, { out: { type: 'string' }, hybrid: { type: 'boolean' } })
    if (values.help === true) {
      io.stdout(KEYGEN)
      return EXIT.ok
    }
    if (typeof values.out !== 'string') throw new CliUsageError('--out <prefix> is required', KEYGEN)
    let privateText: string
    let publicText: string
    if (values.hybrid === true) {
      const keys = await generateHybridSigningKeys()
      privateText = `${JSON.stringify(keys.privateKey, null, 2)}\n`
      publicText = `${JSON.stringify(keys.publicKey, null, 2)}\n`
    } else {
      const keys = generateKeyPairSync('ed25519')
      privateText = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
      publicText = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString()
    }
    // The public half goes first, so a clash leaves no orphan private key behind.
    writeKeyFile(`${values.out}.pub`, publicText, 0o644)
    try {
      writeKeyFile(`${values.out}.key`, privateText, 0o600)
    } catch (error) {
      rmSync(`${values.out}.pub`, { force: true })
      throw error
    }
    io.stdout(`private key: ${values.out}.key\npublic key:  ${values.out}.pub`)
    return EXIT.ok
  },
}

const digest: CliCommand = {
  name: 'digest',
  summary: 'print the digest of a weights folder',
  async run(args, io) {
    const { values, positionals } = parse(args, DIGEST, { sha3: { type: 'boolean' } })
    if (values.help === true) {
      io.stdout(DIGEST)
      return EXIT.ok
    }
    if (positionals.length !== 1) throw new CliUsageError('give exactly one folder', DIGEST)
    const result = await computeModelDigest(positionals[0]!, values.sha3 === true ? 'sha3-256' : 'sha256')
    io.stdout(result.digest)
    return EXIT.ok
  },
}

/** A key file's content: a hybrid key document (JSON) or a PEM. */
function keyOf(text: string): string | Record<string, unknown> {
  return text.trimStart().startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : text
}

const sign: CliCommand = {
  name: 'sign',
  summary: 'sign a manifest for a weights folder',
  async run(args, io) {
    const { values, positionals } = parse(args, SIGN, {
      key: { type: 'string' },
      model: { type: 'string' },
      folder: { type: 'string' },
      sha3: { type: 'boolean' },
      'key-id': { type: 'string' },
    })
    if (values.help === true) {
      io.stdout(SIGN)
      return EXIT.ok
    }
    if (positionals.length > 0) throw new CliUsageError(`unexpected argument: ${positionals[0]}`, SIGN)
    if (
      typeof values.key !== 'string' ||
      typeof values.model !== 'string' ||
      typeof values.folder !== 'string'
    ) {
      throw new CliUsageError('--key, --model and --folder are required', SIGN)
    }
    const key = keyOf(readText(values.key, SIGN))
    const computed = await computeModelDigest(values.folder, values.sha3 === true ? 'sha3-256' : 'sha256')
    const content = {
      model: values.model,
      digest: computed.digest,
      ...(typeof values['key-id'] === 'string' ? { keyId: values['key-id'] } : {}),
    }
    const manifest: ModelManifest =
      typeof key === 'string'
        ? signModelManifest(content, key)
        : await signModelManifest(content, key as never)
    io.stdout(JSON.stringify(manifest, null, 2))
    return EXIT.ok
  },
}

const verify: CliCommand = {
  name: 'verify',
  summary: 'verify a manifest against a weights folder',
  async run(args, io) {
    const { values, positionals } = parse(args, VERIFY, {
      folder: { type: 'string' },
      'public-key': { type: 'string' },
      model: { type: 'string' },
    })
    if (values.help === true) {
      io.stdout(VERIFY)
      return EXIT.ok
    }
    if (
      positionals.length !== 1 ||
      typeof values.folder !== 'string' ||
      typeof values['public-key'] !== 'string'
    ) {
      throw new CliUsageError('give the manifest, --folder and --public-key', VERIFY)
    }
    let manifest: ModelManifest
    try {
      manifest = JSON.parse(readText(positionals[0]!, VERIFY)) as ModelManifest
    } catch (error) {
      if (error instanceof CliUsageError) throw error
      throw new CliUsageError(`${positionals[0]} is not JSON`, VERIFY)
    }
    try {
      await verifyModelManifest(manifest, {
        folder: values.folder,
        publicKey: readText(values['public-key'], VERIFY),
        ...(typeof values.model === 'string' ? { model: values.model } : {}),
      })
    } catch (error) {
      if (ContinuumError.isInstance(error) && error.code === 'CONTINUUM_MODEL_INTEGRITY_FAILED') {
        io.stdout(`FAILED: ${String(error.details?.reason ?? 'integrity')}: ${error.message}`)
        return EXIT.failed
      }
      throw error
    }
    io.stdout(
      `OK: ${manifest.model} (${manifest.version === 2 ? 'hybrid Ed25519 + ML-DSA-65' : 'Ed25519'}, ${manifest.digest})`,
    )
    return EXIT.ok
  },
}

export const modelCommand = commandGroup(MODEL.name, MODEL.summary, [keygen, digest, sign, verify])
