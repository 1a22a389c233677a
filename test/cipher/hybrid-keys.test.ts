/**
 * Hybrid agreement keys as configured: in a key file read by the reloader, and the refusals of
 * options that cannot make a hybrid key (a KeyObject, a short seed, `classical` on an X25519 key,
 * an unknown algorithm), each with a stable code and no key material in the message.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  fileKeySource,
  generateAgreementKeyPair,
  HYBRID_AGREEMENT,
  Keyring,
  KeyringReloader,
} from 'continuum-proxy'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

describe('hybrid agreement keys', () => {
  let folder: string
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'continuum-hybrid-'))
  })
  afterAll(async () => {
    await rm(folder, { recursive: true, force: true })
  })

  it('loads a hybrid key from a key file; the same seed gives the same published keys', async () => {
    const seed = randomBytes(32).toString('base64url')
    const path = join(folder, 'keys.json')
    const entry = {
      id: 'pq-1',
      kind: 'agreement',
      algorithm: HYBRID_AGREEMENT,
      privateKey: seed,
      classical: true,
    }
    await writeFile(path, JSON.stringify({ keys: [{ ...entry, activatesAt: 0 }] }))
    const reloader = await KeyringReloader.start({ source: fileKeySource(path) })
    const published = reloader.keyring.published()
    expect(published).toMatchObject({ keyId: 'pq-1', algorithm: HYBRID_AGREEMENT, classical: true })
    reloader.close()
    const again = await Keyring.create({
      agreementKeys: [{ id: 'pq-1', privateKey: seed, algorithm: HYBRID_AGREEMENT, classical: true }],
    })
    expect(again.published()).toEqual(published)
    // The same keys without the classical permission: the fingerprint covers it, so it is another pin.
    const hybridOnly = await Keyring.create({
      agreementKeys: [{ id: 'pq-1', privateKey: seed, algorithm: HYBRID_AGREEMENT }],
    })
    expect(hybridOnly.published()).toMatchObject({
      publicKey: published?.publicKey,
      mlKemPublicKey: (published as { mlKemPublicKey?: string }).mlKemPublicKey,
      classical: false,
    })
    expect(hybridOnly.published()?.fingerprint).not.toBe(published?.fingerprint)
    await writeFile(path, JSON.stringify({ keys: [{ ...entry, algorithm: 'X448', activatesAt: 0 }] }))
    await expect(KeyringReloader.start({ source: fileKeySource(path) })).rejects.toMatchObject({
      code: 'CONTINUUM_KEY_SOURCE_INVALID',
    })
  })

  it('refuses options that cannot make a hybrid key, without echoing material', async () => {
    const seed = randomBytes(32)
    const cases = [
      { id: 'a', privateKey: generateAgreementKeyPair().privateKey, algorithm: HYBRID_AGREEMENT },
      { id: 'b', privateKey: seed.subarray(0, 16).toString('base64url'), algorithm: HYBRID_AGREEMENT },
      { id: 'c', privateKey: generateAgreementKeyPair().privateKey, classical: true },
      { id: 'd', privateKey: seed.toString('base64url'), algorithm: 'X448' },
    ]
    for (const input of cases) {
      const failure = await Keyring.create({ agreementKeys: [input as never] }).catch(
        (error: unknown) => error,
      )
      expect(failure).toMatchObject({ code: 'CONTINUUM_INVALID_OPTIONS' })
      expect(String((failure as Error).message)).not.toContain(seed.toString('base64url').slice(0, 12))
    }
  })
})
