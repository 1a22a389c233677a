import { ContinuumError } from 'continuum-proxy'
import {
  FheKeyManager,
  planLayout,
  requiredGaloisSteps,
  resolveCkksParameters,
  SealEvaluator,
} from 'continuum-proxy/fhe'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  decodeEnvelope,
  decodeSteps,
  EnvelopeKind,
  encodeEnvelope,
  evaluationKeyId,
  SectionTag,
} from '../../src/fhe/envelope'

// The WebAssembly memory of node-seal, caught as the module instantiates (this file runs isolated, so
// node-seal loads fresh here): its size is SEAL's own heap, unlike the process's `external`, which
// other native memory of a loaded machine moves by whole megabytes.
const sealMemories: WebAssembly.Memory[] = []
const instantiate = WebAssembly.instantiate
WebAssembly.instantiate = (async (source: BufferSource, imports?: WebAssembly.Imports) => {
  const result = await instantiate(source, imports)
  const instance: WebAssembly.Instance = 'instance' in result ? result.instance : result
  for (const value of Object.values(instance.exports)) {
    if (value instanceof WebAssembly.Memory) sealMemories.push(value)
  }
  return result
}) as typeof instantiate

const parameters = resolveCkksParameters('ckks-4096')
let client: FheKeyManager
let evaluator: SealEvaluator

const vector = (length: number, seed: number) =>
  Array.from({ length }, (_, index) => Math.sin(seed * 31 + index * 7.3))
const dot = (left: ArrayLike<number>, right: ArrayLike<number>) => {
  let sum = 0
  for (let index = 0; index < left.length; index++) sum += left[index]! * right[index]!
  return sum
}
const inner = (envelope: Uint8Array) =>
  decodeEnvelope(envelope, EnvelopeKind.ciphertext).sections.get(SectionTag.ciphertext)!
const wrap = (bytes: Uint8Array) =>
  encodeEnvelope(EnvelopeKind.ciphertext, parameters.fingerprint, client.keyId, [
    [SectionTag.ciphertext, bytes],
  ])
const caught = async (action: () => unknown): Promise<ContinuumError> => {
  try {
    await action()
  } catch (error) {
    if (ContinuumError.isInstance(error)) return error
    throw error
  }
  throw new Error('expected a failure')
}

function loadKeys(keyTag: string, bundle: Uint8Array): void {
  const envelope = decodeEnvelope(bundle, EnvelopeKind.evaluationKeys)
  evaluator.loadEvaluationKeys(keyTag, {
    galoisKeys: envelope.sections.get(SectionTag.galoisKeys),
    galoisSteps: decodeSteps(envelope.sections.get(SectionTag.galoisSteps) ?? new Uint8Array()),
    relinKeys: envelope.sections.get(SectionTag.relinKeys),
    publicKey: envelope.sections.get(SectionTag.publicKey),
  })
}

beforeAll(async () => {
  client = await FheKeyManager.generate({ parameters: 'ckks-4096' })
  evaluator = await SealEvaluator.create(parameters)
  loadKeys('client-1', client.evaluationKeys({ galoisSteps: requiredGaloisSteps(24) }))
})

afterAll(() => {
  WebAssembly.instantiate = instantiate
  evaluator.dispose()
  client.dispose()
})

describe('FheKeyManager', () => {
  it('encrypts and decrypts, and the exported secret key restores the same key', async () => {
    const values = vector(10, 1)
    const ciphertext = client.encrypt(values)
    const decrypted = client.decrypt(ciphertext)
    for (const [index, value] of values.entries()) expect(decrypted[index]).toBeCloseTo(value, 5)
    const restored = await FheKeyManager.import(client.exportSecretKey(), { parameters: 'ckks-4096' })
    try {
      expect(restored.keyId).toBe(client.keyId)
      expect(restored.decrypt(ciphertext)[3]).toBeCloseTo(values[3]!, 5)
    } finally {
      restored.dispose()
    }
  })

  it('rotates to a new key id whose ciphertexts the old key refuses', async () => {
    const rotated = await client.rotate()
    try {
      expect(rotated.keyId).not.toBe(client.keyId)
      const ciphertext = rotated.encrypt([1, 2, 3])
      expect((await caught(() => client.decrypt(ciphertext))).code).toBe('CONTINUUM_FHE_KEY_MISMATCH')
      expect(rotated.decrypt(ciphertext)[2]).toBeCloseTo(3, 5)
    } finally {
      rotated.dispose()
    }
  })

  it('names each evaluation-key bundle by the digest of its key material', () => {
    const first = client.evaluationKeys({ galoisSteps: [1], publicKey: false, relinKeys: false })
    const firstId = client.keyId
    const envelope = decodeEnvelope(first, EnvelopeKind.evaluationKeys)
    expect(envelope.keyId).toBe(firstId)
    expect(firstId).toBe(evaluationKeyId(parameters.fingerprint, envelope.sections))
    expect(firstId).toMatch(/^fhe-[0-9a-f]{64}$/)
    // Fresh randomness, fresh material, another id; ciphertexts follow the newest id and
    // results under the earlier one still decrypt.
    client.evaluationKeys({ galoisSteps: [1], publicKey: false, relinKeys: false })
    expect(client.keyId).not.toBe(firstId)
    const underFirst = encodeEnvelope(EnvelopeKind.ciphertext, parameters.fingerprint, firstId, [
      [SectionTag.ciphertext, inner(client.encrypt([4, 5]))],
    ])
    expect(client.decrypt(underFirst)[1]).toBeCloseTo(5, 5)
  })

  it('refuses an export of another parameter set', async () => {
    const error = await caught(() =>
      FheKeyManager.import(client.exportSecretKey(), { parameters: 'ckks-8192' }),
    )
    expect(error.code).toBe('CONTINUUM_FHE_PARAMETER_MISMATCH')
  })

  it('builds seeded evaluation keys holding only the requested steps', () => {
    const onlyGalois = client.evaluationKeys({ galoisSteps: [1, 8], publicKey: false, relinKeys: false })
    const envelope = decodeEnvelope(onlyGalois, EnvelopeKind.evaluationKeys)
    expect([...envelope.sections.keys()].sort()).toEqual([SectionTag.galoisKeys, SectionTag.galoisSteps])
    // Two Galois keys at N=4096, two data primes: 2 keys × 2 parts × 2 polys × 3 primes × 4096 × 8 B
    // = 786 KB expanded; the seeded form keeps one polynomial of each pair, so under half.
    expect(onlyGalois.byteLength).toBeLessThan(786_432 / 2)
    const error = (() => {
      try {
        loadKeys('partial', client.evaluationKeys({ galoisSteps: [1], publicKey: false, relinKeys: false }))
        evaluator.runUnit({
          keyTag: 'partial',
          matrixId: 'missing',
          mode: 'single',
          input: new Uint8Array(),
          block: 0,
          giantStart: 0,
          giantEnd: 1,
          finalize: true,
          compression: 'none',
        })
      } catch (thrown) {
        return thrown as ContinuumError
      }
    })()
    expect(error?.code).toBe('CONTINUUM_FHE_COLLECTION_UNKNOWN')
  })
})

describe('SealEvaluator', () => {
  const rows = Array.from({ length: 40 }, (_, row) => vector(24, row + 2))
  const bias = vector(40, 99)

  beforeAll(() => {
    evaluator.setMatrix('layer', {
      rows: 40,
      dimension: 24,
      values: Float64Array.from(rows.flat()),
      bias: Float64Array.from(bias),
      modes: ['single', 'batched'],
    })
  })

  it('computes W·x + b on a ciphertext within 1e-3', () => {
    const layout = planLayout(40, 24, parameters.slotCount, 'single')
    const query = vector(24, 500)
    const results = evaluator.evaluate({
      keyTag: 'client-1',
      matrixId: 'layer',
      mode: 'single',
      input: inner(client.encryptQueries(layout, [query])),
      compression: 'zstd',
    })
    const [scores] = client.decryptScores(layout, results.map(wrap))
    for (const [index, row] of rows.entries()) {
      expect(Math.abs(scores![index]! - (dot(row, query) + bias[index]!))).toBeLessThan(1e-3)
    }
  })

  it('scores several queries batched into one ciphertext', () => {
    const layout = planLayout(40, 24, parameters.slotCount, 'batched')
    expect(layout.queryCapacity).toBeGreaterThanOrEqual(3)
    const queries = [vector(24, 7), vector(24, 8), vector(24, 9)]
    const results = evaluator.evaluate({
      keyTag: 'client-1',
      matrixId: 'layer',
      mode: 'batched',
      input: inner(client.encryptQueries(layout, queries)),
      compression: 'none',
    })
    expect(results).toHaveLength(1)
    const scores = client.decryptScores(layout, results.map(wrap), 3)
    for (const [q, query] of queries.entries()) {
      for (const [index, row] of rows.entries()) {
        expect(Math.abs(scores[q]![index]! - (dot(row, query) + bias[index]!))).toBeLessThan(1e-3)
      }
    }
  })

  it('adds the bias a matrix holds now, registered again under its id with another', () => {
    // The evaluator keeps each block's encoded bias with the matrix; a new registration must not
    // add the old one.
    const layout = planLayout(40, 24, parameters.slotCount, 'single')
    const query = vector(24, 600)
    const input = inner(client.encryptQueries(layout, [query]))
    const scores = () =>
      client.decryptScores(
        layout,
        evaluator
          .evaluate({ keyTag: 'client-1', matrixId: 'rebiased', mode: 'single', input, compression: 'none' })
          .map(wrap),
      )[0]!
    for (const offsets of [bias, vector(40, 123)]) {
      evaluator.setMatrix('rebiased', {
        rows: 40,
        dimension: 24,
        values: Float64Array.from(rows.flat()),
        bias: Float64Array.from(offsets),
        modes: ['single'],
      })
      for (const round of [0, 1]) {
        const found = scores()
        for (const [index, row] of rows.entries()) {
          expect(
            Math.abs(found[index]! - (dot(row, query) + offsets[index]!)),
            `round ${round}`,
          ).toBeLessThan(1e-3)
        }
      }
    }
    evaluator.dropMatrix('rebiased')
  })

  it('turns garbage and foreign ciphertexts into coded errors, and keeps working', async () => {
    const request = {
      keyTag: 'client-1',
      matrixId: 'layer',
      mode: 'single' as const,
      compression: 'none' as const,
    }
    const garbage = await caught(() =>
      evaluator.evaluate({ ...request, input: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]) }),
    )
    expect(garbage.code).toBe('CONTINUUM_FHE_MALFORMED_PAYLOAD')
    const other = await FheKeyManager.generate({ parameters: 'ckks-8192' })
    try {
      const foreign = await caught(() =>
        evaluator.evaluate({ ...request, input: inner(other.encrypt([1, 2])) }),
      )
      expect(foreign.code).toBe('CONTINUUM_FHE_MALFORMED_PAYLOAD')
    } finally {
      other.dispose()
    }
    const truncated = inner(client.encrypt([1])).subarray(0, 100)
    expect((await caught(() => evaluator.evaluate({ ...request, input: truncated }))).code).toBe(
      'CONTINUUM_FHE_MALFORMED_PAYLOAD',
    )
    const unknown = await caught(() =>
      evaluator.evaluate({ ...request, keyTag: 'nobody', input: inner(client.encrypt([1])) }),
    )
    expect(unknown.code).toBe('CONTINUUM_FHE_KEYS_UNKNOWN')
    expect(evaluator.evaluate({ ...request, input: inner(client.encrypt(vector(24, 1))) })).toHaveLength(1)
  })

  it('keeps the WASM heap flat over 500 operations, 50 of them with rotations', () => {
    evaluator.setMatrix('scalar', {
      rows: 1,
      dimension: 1,
      values: Float64Array.of(0.5),
      bias: Float64Array.of(0.25),
      modes: ['single'],
    })
    const input = inner(client.encrypt([2]))
    const request = {
      keyTag: 'client-1',
      matrixId: 'scalar',
      mode: 'single' as const,
      input,
      compression: 'none' as const,
    }
    const rotating = { ...request, matrixId: 'layer', input: inner(client.encrypt(vector(24, 3))) }
    const run = (count: number) => {
      for (let index = 0; index < count; index++) {
        // Every 10th operation uses rotations, so Galois key switching is covered too.
        evaluator.evaluate(index % 10 === 0 ? rotating : request)
      }
    }
    run(100)
    expect(sealMemories).toHaveLength(1)
    const wasmBytes = () => sealMemories[0]!.buffer.byteLength
    const before = wasmBytes()
    // The heap only grows once its free space is used up, and the warm-up leaves little of it. Every
    // SEAL object an operation could leak that holds data holds at least one polynomial of 4096
    // coefficients (32 KB): one leaked per plain operation is 14 MB over the 450 here (a bias
    // plaintext leaked per operation grew the heap by 36 MB when tried), and the 50 rotating
    // operations are as many as a run of 10,000 with one in 200 had (one rotated ciphertext leaked
    // per rotating operation grew it by 5.8 MB). More plain operations cost CPU and find nothing more.
    run(500)
    const growth = wasmBytes() - before
    expect(growth).toBeLessThan(4 * 1024 * 1024)
    const [result] = evaluator.evaluate(request)
    expect(client.decrypt(wrap(result!))[0]).toBeCloseTo(1.25, 3)
  }, 120_000)
})
