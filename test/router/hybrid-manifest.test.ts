/**
 * Hybrid model manifests: Ed25519 and ML-DSA-65 over one statement, SHA3-256 beside SHA-256 for
 * the folder digest. A verifier with a hybrid key accepts only a version 2 manifest whose two
 * signatures both verify: one forged signature, a signature from another key pair, a classical
 * manifest from the same Ed25519 key (a downgrade) and a relabelled version are all refused. The
 * router configuration takes a hybrid public key file, and the CLI makes keys, signs and verifies.
 */
import { createPublicKey } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  computeModelDigest,
  generateHybridSigningKeys,
  type HybridPrivateKey,
  type ModelManifest,
  signModelManifest,
  verifyModelManifest,
} from 'continuum-proxy/router'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../../cli/run-cli'

let folder: string
let weights: string

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'continuum-hybrid-'))
  weights = join(folder, 'weights')
  await (await import('node:fs/promises')).mkdir(weights)
  await writeFile(join(weights, 'model.safetensors'), 'weights v1')
  await writeFile(join(weights, 'config.json'), '{"layers":32}')
})

afterAll(async () => {
  await rm(folder, { recursive: true, force: true })
})

async function reason(
  manifest: ModelManifest,
  publicKey: Parameters<typeof verifyModelManifest>[1]['publicKey'],
) {
  try {
    await verifyModelManifest(manifest, { folder: weights, publicKey })
    return 'ok'
  } catch (error) {
    return (error as { details?: { reason?: string } }).details?.reason ?? String(error)
  }
}

describe('hybrid model manifests', () => {
  it('signs with both keys over a SHA3-256 digest and verifies only when both signatures hold', async () => {
    const { privateKey, publicKey } = await generateHybridSigningKeys()
    const digest = await computeModelDigest(weights, 'sha3-256')
    expect(digest.digest).toMatch(/^sha3-256:[0-9a-f]{64}$/)
    expect(digest.digest).not.toBe((await computeModelDigest(weights)).digest.replace('sha256', 'sha3-256'))
    const manifest = await signModelManifest({ model: 'llama', digest: digest.digest }, privateKey)
    expect(manifest.version).toBe(2)
    expect(await reason(manifest, publicKey)).toBe('ok')
    // The key file's JSON text works too (configuration files hold it as text).
    expect(await reason(manifest, JSON.stringify(publicKey))).toBe('ok')
    if (manifest.version !== 2) throw new Error('expected a hybrid manifest')

    const other = await generateHybridSigningKeys()
    const foreign = await signModelManifest({ model: 'llama', digest: digest.digest }, other.privateKey)
    if (foreign.version !== 2) throw new Error('expected a hybrid manifest')
    // A valid Ed25519 signature with a foreign ML-DSA one, and the other way round: refused.
    const mixedPq = {
      ...manifest,
      signatures: { ...manifest.signatures, mlDsa65: foreign.signatures.mlDsa65 },
    }
    const mixedEd = {
      ...manifest,
      signatures: { ...manifest.signatures, ed25519: foreign.signatures.ed25519 },
    }
    expect(await reason(mixedPq, publicKey)).toBe('signature')
    expect(await reason(mixedEd, publicKey)).toBe('signature')
    const flipped = Buffer.from(manifest.signatures.mlDsa65, 'base64')
    flipped[100]! ^= 1
    expect(
      await reason(
        { ...manifest, signatures: { ...manifest.signatures, mlDsa65: flipped.toString('base64') } },
        publicKey,
      ),
    ).toBe('signature')
    expect(
      await reason({ ...manifest, signatures: { ed25519: manifest.signatures.ed25519 } } as never, publicKey),
    ).toBe('signature')
  })

  it('refuses a classical manifest from the same Ed25519 key, and a relabelled version', async () => {
    const { privateKey, publicKey } = await generateHybridSigningKeys()
    const { digest } = await computeModelDigest(weights)
    const classical = signModelManifest({ model: 'llama', digest }, privateKey.ed25519)
    expect(await reason(classical, privateKeyPublicHalf(privateKey))).toBe('ok')
    expect(await reason(classical, publicKey)).toBe('downgrade')
    // Both versions' bytes name the version: a hybrid manifest's Ed25519 signature is no v1 signature.
    const hybrid = await signModelManifest({ model: 'llama', digest }, privateKey)
    if (hybrid.version !== 2) throw new Error('expected a hybrid manifest')
    const relabelled: ModelManifest = {
      version: 1,
      model: 'llama',
      digest,
      signature: hybrid.signatures.ed25519,
    }
    expect(await reason(relabelled, publicKey.ed25519)).toBe('signature')
  })

  it('refuses swapped weights under a SHA3-256 digest', async () => {
    const { privateKey, publicKey } = await generateHybridSigningKeys()
    const manifest = await signModelManifest(
      { model: 'llama', digest: (await computeModelDigest(weights, 'sha3-256')).digest },
      privateKey,
    )
    await writeFile(join(weights, 'model.safetensors'), 'weights v2 (tampered)')
    try {
      expect(await reason(manifest, publicKey)).toBe('digest')
    } finally {
      await writeFile(join(weights, 'model.safetensors'), 'weights v1')
    }
  })
})

function privateKeyPublicHalf(key: HybridPrivateKey): string {
  return createPublicKey(key.ed25519).export({ type: 'spki', format: 'pem' }).toString()
}

describe('continuum-proxy model', () => {
  function io() {
    const out: string[] = []
    return { out, io: { stdout: (text: string) => out.push(text), stderr: (text: string) => out.push(text) } }
  }

  it('makes hybrid keys, signs a SHA3-256 manifest, verifies it, and names the reason of a failure', async () => {
    const prefix = join(folder, 'signing')
    const made = io()
    expect(await runCli(['model', 'keygen', '--hybrid', '--out', prefix], made.io)).toBe(0)
    expect(await runCli(['model', 'keygen', '--hybrid', '--out', prefix], io().io)).toBe(2)
    const signed = io()
    expect(
      await runCli(
        ['model', 'sign', '--key', `${prefix}.key`, '--model', 'llama', '--folder', weights, '--sha3'],
        signed.io,
      ),
    ).toBe(0)
    const manifestPath = join(folder, 'manifest.json')
    await writeFile(manifestPath, signed.out.join('\n'))
    const manifest = JSON.parse(signed.out.join('\n')) as ModelManifest
    expect(manifest).toMatchObject({
      version: 2,
      model: 'llama',
      digest: expect.stringMatching(/^sha3-256:/),
    })
    const verified = io()
    expect(
      await runCli(
        ['model', 'verify', manifestPath, '--folder', weights, '--public-key', `${prefix}.pub`],
        verified.io,
      ),
    ).toBe(0)
    expect(verified.out.join('\n')).toContain('hybrid Ed25519 + ML-DSA-65')
    const wrongModel = io()
    expect(
      await runCli(
        [
          'model',
          'verify',
          manifestPath,
          '--folder',
          weights,
          '--public-key',
          `${prefix}.pub`,
          '--model',
          'other',
        ],
        wrongModel.io,
      ),
    ).toBe(1)
    expect(wrongModel.out.join('\n')).toMatch(/^FAILED: model:/)
    const digest = io()
    expect(await runCli(['model', 'digest', weights, '--sha3'], digest.io)).toBe(0)
    expect(digest.out[0]).toBe(manifest.digest)
    expect(made.out.join('\n')).not.toContain('PRIVATE KEY')
  })
})
