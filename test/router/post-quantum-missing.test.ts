/**
 * Hybrid modes load `@noble/post-quantum` only when they are used; without the package a hybrid
 * operation fails with CONTINUUM_DEPENDENCY_MISSING naming it, while classical signing goes on.
 */
import { generateKeyPairSync } from 'node:crypto'
import { generateHybridSigningKeys, signModelManifest } from 'continuum-proxy/router'
import { describe, expect, it, vi } from 'vitest'

vi.mock('@noble/post-quantum/ml-dsa.js', () => {
  throw Object.assign(new Error("Cannot find package '@noble/post-quantum' imported from x"), {
    code: 'ERR_MODULE_NOT_FOUND',
  })
})

describe('without @noble/post-quantum', () => {
  it('names the package to install, and classical manifests still work', async () => {
    await expect(generateHybridSigningKeys()).rejects.toMatchObject({
      code: 'CONTINUUM_DEPENDENCY_MISSING',
      message: expect.stringContaining('npm install @noble/post-quantum'),
    })
    const { privateKey } = generateKeyPairSync('ed25519')
    const manifest = signModelManifest({ model: 'm', digest: `sha256:${'0'.repeat(64)}` }, privateKey)
    expect(manifest.version).toBe(1)
  })
})
