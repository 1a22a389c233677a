import { generateKeyPairSync } from 'node:crypto'
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  computeModelDigest,
  InferenceRouter,
  signModelManifest,
  verifyModelManifest,
  withModelIntegrity,
} from 'continuum-proxy/router'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { chat, FakeProvider } from './fake-provider'

let folder: string
const { privateKey, publicKey } = generateKeyPairSync('ed25519')
const other = generateKeyPairSync('ed25519')

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'continuum-model-'))
  await writeFile(join(folder, 'config.json'), '{"hidden_size":8}')
  await mkdir(join(folder, 'shards'))
  await writeFile(join(folder, 'shards', 'model-00001.safetensors'), Buffer.alloc(4096, 7))
  await writeFile(join(folder, 'shards', 'model-00002.safetensors'), Buffer.alloc(1000, 9))
})

afterEach(async () => {
  await rm(folder, { recursive: true, force: true })
})

describe('model digest and manifest', () => {
  it('computes a deterministic folder digest from sorted relative paths and file digests', async () => {
    const first = await computeModelDigest(folder)
    expect(first.digest).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(first.files.map((file) => file.path)).toEqual([
      'config.json',
      'shards/model-00001.safetensors',
      'shards/model-00002.safetensors',
    ])
    expect(first.files[1]!.size).toBe(4096)
    expect((await computeModelDigest(folder)).digest).toBe(first.digest)

    // The same bytes under another name give another digest (renames are caught).
    await writeFile(join(folder, 'extra.bin'), 'x')
    expect((await computeModelDigest(folder)).digest).not.toBe(first.digest)
  })

  it('follows file symlinks like a Hugging Face snapshot', async () => {
    const before = await computeModelDigest(folder)
    const blobs = await mkdtemp(join(tmpdir(), 'continuum-blobs-'))
    try {
      await writeFile(join(blobs, 'blob'), 'tokenizer')
      await symlink(join(blobs, 'blob'), join(folder, 'tokenizer.json'))
      const after = await computeModelDigest(folder)
      expect(after.files.map((file) => file.path)).toContain('tokenizer.json')
      expect(after.digest).not.toBe(before.digest)
    } finally {
      await rm(blobs, { recursive: true, force: true })
    }
  })

  it('signs and verifies; refuses tampered weights, wrong keys, wrong models and malformed manifests', async () => {
    const { digest } = await computeModelDigest(folder)
    const manifest = signModelManifest({ model: 'llama-3-8b', digest, keyId: 'release-2025' }, privateKey)
    expect(manifest).toMatchObject({ version: 1, model: 'llama-3-8b', digest, keyId: 'release-2025' })
    await expect(verifyModelManifest(manifest, { folder, publicKey })).resolves.toMatchObject({ digest })
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString()
    await expect(
      verifyModelManifest(manifest, { folder, publicKey: pem, model: 'llama-3-8b' }),
    ).resolves.toBeDefined()

    await expect(verifyModelManifest(manifest, { folder, publicKey: other.publicKey })).rejects.toMatchObject(
      {
        code: 'CONTINUUM_MODEL_INTEGRITY_FAILED',
        status: 503,
        details: { reason: 'signature' },
      },
    )
    await expect(
      verifyModelManifest({ ...manifest, model: 'other' }, { folder, publicKey }),
    ).rejects.toMatchObject({
      details: { reason: 'signature' },
    })
    await expect(
      verifyModelManifest(manifest, { folder, publicKey, model: 'mistral' }),
    ).rejects.toMatchObject({
      details: { reason: 'model' },
    })
    await expect(verifyModelManifest({ version: 2 } as never, { folder, publicKey })).rejects.toMatchObject({
      details: { reason: 'malformed' },
    })

    await writeFile(join(folder, 'shards', 'model-00002.safetensors'), Buffer.alloc(1000, 8))
    await expect(verifyModelManifest(manifest, { folder, publicKey })).rejects.toMatchObject({
      code: 'CONTINUUM_MODEL_INTEGRITY_FAILED',
      details: { reason: 'digest', model: 'llama-3-8b' },
    })
    expect(() => signModelManifest({ model: 'm', digest: 'nope' }, privateKey)).toThrow(/digest must be/)
  })
})

describe('withModelIntegrity in the router', () => {
  it('verifies once before first use, and serves the verified model', async () => {
    const { digest } = await computeModelDigest(folder)
    const local = new FakeProvider('vllm', { capabilities: { local: true } })
    const verified = withModelIntegrity(local, {
      models: {
        llama: { folder, publicKey, manifest: signModelManifest({ model: 'llama', digest }, privateKey) },
      },
    })
    const router = new InferenceRouter({ providers: [verified], policy: { type: 'local_only' } })
    await expect(router.complete(chat('llama'))).resolves.toMatchObject({ provider: 'vllm' })
    // Tampering after the first verification is not re-hashed per request: the result is cached.
    await writeFile(join(folder, 'config.json'), '{}')
    await expect(router.complete(chat('llama'))).resolves.toMatchObject({ provider: 'vllm' })
    expect(local.calls).toHaveLength(2)
  })

  it('refuses a model whose weights do not match, falls over, and reports the provider unhealthy', async () => {
    const { digest } = await computeModelDigest(folder)
    const manifest = signModelManifest({ model: 'llama', digest }, privateKey)
    await writeFile(join(folder, 'shards', 'model-00001.safetensors'), Buffer.alloc(4096, 1))
    const local = new FakeProvider('vllm', { capabilities: { local: true } })
    const verified = withModelIntegrity(local, { models: { llama: { folder, publicKey, manifest } } })
    const alone = new InferenceRouter({ providers: [verified] })
    await expect(alone.complete(chat('llama'))).rejects.toMatchObject({
      code: 'CONTINUUM_MODEL_INTEGRITY_FAILED',
    })
    expect(local.calls).toHaveLength(0)
    const chunks: unknown[] = []
    const withBackup = new InferenceRouter({
      providers: [verified, new FakeProvider('cloud')],
      healthCacheMs: 0,
    })
    for await (const chunk of withBackup.stream(chat('llama'))) chunks.push(chunk)
    expect(chunks[0]).toEqual({ type: 'text-delta', text: 'streamed from cloud' })
    const health = await withBackup.health()
    expect(health.providers.vllm).toMatchObject({
      status: 'unhealthy',
      detail: 'model integrity failed: llama',
    })
    expect(health.status).toBe('degraded')
  })

  it('refuses models without a manifest unless requireManifest is false', async () => {
    const strict = withModelIntegrity(new FakeProvider('vllm'), { models: {} })
    await expect(strict.complete(chat('unlisted'))).rejects.toMatchObject({ details: { reason: 'missing' } })
    const lenient = withModelIntegrity(new FakeProvider('vllm'), { models: {}, requireManifest: false })
    await expect(lenient.complete(chat('unlisted'))).resolves.toMatchObject({ provider: 'vllm' })
  })
})
