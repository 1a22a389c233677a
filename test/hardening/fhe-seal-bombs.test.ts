/**
 * SEAL objects that are small on the wire and huge once SEAL reads them. The attacks, over a real
 * socket through the Express binding and the worker pool: a key upload or a query whose SEAL
 * section is a 2 KB zstd stream of 64 MB of zeros (before: SEAL inflated it whole in the worker,
 * whose WASM heap grew by about 300 MB and never shrinks, before answering 400); a 64-byte Galois
 * key set declaring 10^7 keys (before: SEAL reserved room for all of them); and valid all-zero
 * Galois keys compressed to a few KB each (before: charged at those few KB against the quota while
 * the worker held about 800 KB each, so a 1 MB quota let one caller pin any number of them).
 */
import { zstdCompressSync } from 'node:zlib'
import {
  createFheHandler,
  FheKeyManager,
  FheService,
  type StoredMatrixDescription,
} from 'continuum-proxy/fhe'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  decodeEnvelope,
  EnvelopeKind,
  encodeEnvelope,
  encodeSteps,
  evaluationKeyId,
  SectionTag,
} from '../../src/fhe/envelope'
import { resolveCkksParameters } from '../../src/fhe/params'
import { createSealContext } from '../../src/fhe/seal-runtime'
import { frameworks, type RunningApp } from '../conformance/frameworks'

const parameters = resolveCkksParameters('ckks-4096')
const QUOTA = 1_000_000
const vector = (length: number, seed: number) =>
  Array.from({ length }, (_, index) => Math.sin(seed * 13 + index * 1.7))

/** A SEAL header (taken from a real object) in front of zstd-compressed members. */
function compressedSealObject(realHeader: Uint8Array, members: Uint8Array): Uint8Array {
  const frame = zstdCompressSync(members)
  const output = Buffer.alloc(16 + frame.length)
  output.set(realHeader.subarray(0, 16))
  output[5] = 2
  output.writeBigUInt64LE(BigInt(output.length), 8)
  output.set(frame, 16)
  return Uint8Array.from(output)
}

/** An evaluation-key bundle of these sections, filed under their digest as a real client would. */
function bundleOf(sections: [number, Uint8Array][]): Uint8Array {
  const keyId = evaluationKeyId(parameters.fingerprint, sections)
  return encodeEnvelope(EnvelopeKind.evaluationKeys, parameters.fingerprint, keyId, sections)
}

/** Galois keys for `steps` whose polynomials are all zeros (valid for SEAL), zstd-compressed. */
async function zeroGaloisKeys(client: FheKeyManager, steps: number[]): Promise<Uint8Array> {
  const seeded = decodeEnvelope(
    client.evaluationKeys({ galoisSteps: steps, publicKey: false, relinKeys: false }),
    EnvelopeKind.evaluationKeys,
  ).sections.get(SectionTag.galoisKeys)!
  const context = await createSealContext(parameters)
  const keys = new context.seal.GaloisKeys()
  let full: Buffer
  try {
    keys.loadFromArray(context.context, Uint8Array.from(seeded))
    full = Buffer.from(keys.saveToArray(context.seal.ComprModeType.none) as Uint8Array)
  } finally {
    keys.delete()
    context.dispose()
  }
  // Members: parms id, key count, then per key its part count and parts, each a SEAL object ending
  // in its 2 × N × primes coefficients.
  const polynomialBytes = 2 * parameters.polyModulusDegree * parameters.coeffModulusBits.length * 8
  let offset = 16 + 32
  const count = Number(full.readBigUInt64LE(offset))
  offset += 8
  for (let index = 0; index < count; index++) {
    const parts = Number(full.readBigUInt64LE(offset))
    offset += 8
    for (let part = 0; part < parts; part++) {
      const end = offset + Number(full.readBigUInt64LE(offset + 8))
      full.fill(0, end - polynomialBytes, end)
      offset = end
    }
  }
  return compressedSealObject(full, full.subarray(16))
}

describe.each(frameworks.filter((harness) => harness.name === 'express' && harness.prefix === ''))(
  'SEAL bombs through $name',
  (harness) => {
    let service: FheService
    let app: RunningApp
    let client: FheKeyManager
    let collection: StoredMatrixDescription

    beforeAll(async () => {
      service = new FheService({
        parameters: 'ckks-4096',
        workers: 1,
        maxKeyBytes: 600_000,
        keyQuotaBytes: QUOTA,
        keyCacheMaxBytes: 3_000_000,
      })
      collection = await service.registerCollection(
        'docs',
        Array.from({ length: 8 }, (_, row) => vector(16, row)),
      )
      client = await FheKeyManager.generate({ parameters: 'ckks-4096' })
      app = await harness.start({ upstream: 'http://127.0.0.1:9', handlers: [createFheHandler({ service })] })
    }, 60_000)

    afterAll(async () => {
      client.dispose()
      await app.close()
      await service.close()
    })

    const upload = async (bundle: Uint8Array) => {
      const response = await fetch(`${app.url}/v1/fhe/keys`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: bundle as unknown as BodyInit,
      })
      return { status: response.status, body: (await response.json()) as { error?: { code: string } } }
    }

    it('refuses inflation bombs in keys and queries before SEAL reads them, so the workers stay small', async () => {
      const real = decodeEnvelope(
        client.evaluationKeys({ galoisSteps: [1] }),
        EnvelopeKind.evaluationKeys,
      ).sections.get(SectionTag.galoisKeys)!
      const zeros = new Uint8Array(64 * 1024 * 1024)
      const keyBomb = bundleOf([
        [SectionTag.galoisKeys, compressedSealObject(real, zeros)],
        [SectionTag.galoisSteps, encodeSteps([1])],
      ])
      const declared = Buffer.alloc(64)
      declared.set(real.subarray(0, 48))
      declared.writeBigUInt64LE(64n, 8)
      declared.writeBigUInt64LE(10_000_000n, 48)
      const countBomb = bundleOf([
        [SectionTag.galoisKeys, Uint8Array.from(declared)],
        [SectionTag.galoisSteps, encodeSteps([1])],
      ])
      // The attacker's own valid keys, then a query whose ciphertext is the same bomb.
      expect((await upload(client.evaluationKeys({ galoisSteps: collection.galoisSteps }))).status).toBe(201)
      const realQuery = decodeEnvelope(
        client.encryptQueries(collection.layouts.single, [vector(16, 99)]),
        EnvelopeKind.ciphertext,
      ).sections.get(SectionTag.ciphertext)!
      const queryBomb = encodeEnvelope(EnvelopeKind.ciphertext, parameters.fingerprint, client.keyId, [
        [SectionTag.ciphertext, compressedSealObject(realQuery, zeros)],
      ])
      expect(keyBomb.byteLength + countBomb.byteLength + queryBomb.byteLength).toBeLessThan(10_000)

      const before = process.memoryUsage.rss()
      for (let round = 0; round < 3; round++) {
        for (const bundle of [keyBomb, countBomb]) {
          const answer = await upload(bundle)
          expect(answer.status).toBe(400)
          expect(answer.body.error?.code).toBe('CONTINUUM_FHE_MALFORMED_PAYLOAD')
        }
        const response = await fetch(`${app.url}/v1/fhe/similarity`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            keyId: client.keyId,
            collection: 'docs',
            query: Buffer.from(queryBomb).toString('base64'),
          }),
        })
        expect(response.status).toBe(400)
        expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
          'CONTINUUM_FHE_MALFORMED_PAYLOAD',
        )
      }
      // Inflating one bomb alone takes 64 MB; the process (worker heaps included) grew by less.
      expect(process.memoryUsage.rss() - before).toBeLessThan(48 * 1024 * 1024)
    }, 120_000)

    it('charges compressed keys at what the workers hold, so zero keys cannot pin memory past the quota', async () => {
      const owner = await FheKeyManager.generate({ parameters: 'ckks-4096', compression: 'none' })
      try {
        const steps = [1, 2]
        const bundles: Uint8Array[] = []
        for (let variant = 0; variant < 6; variant++) {
          bundles.push(
            bundleOf([
              [SectionTag.galoisKeys, await zeroGaloisKeys(owner, [...steps, 3 + variant])],
              [SectionTag.galoisSteps, encodeSteps([...steps, 3 + variant])],
            ]),
          )
        }
        // Each holds 3 keys of 2 parts of about 197 KB (1.2 MB) but weighs a few KB on the wire.
        expect(Math.max(...bundles.map((bundle) => bundle.byteLength))).toBeLessThan(20_000)
        const statuses: number[] = []
        for (const bundle of bundles) {
          const answer = await upload(bundle)
          statuses.push(answer.status)
        }
        // Not one fits a 1 MB quota at the size the worker holds it.
        expect(statuses.filter((status) => status === 201)).toHaveLength(0)
        expect(service.keyUsage()).toBeLessThanOrEqual(QUOTA)
      } finally {
        owner.dispose()
      }
    }, 120_000)
  },
)
