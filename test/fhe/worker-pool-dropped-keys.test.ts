/**
 * Keys the service dropped stay dropped in the worker pool. A product that picked up a caller's
 * keys just before a DELETE (with a shared store the product awaits a Redis round trip in between)
 * reached the pool after the drop, and the pool sent the keys to every worker again: loaded for
 * good, since nothing would drop that tag a second time, and counted against no quota. Each won
 * race pinned one bundle per worker. Now the pool refuses a product under a dropped tag.
 */
import {
  FheKeyManager,
  requiredGaloisSteps,
  resolveCkksParameters,
  WorkerPoolBackend,
} from 'continuum-proxy/fhe'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeEnvelope, EnvelopeKind, SectionTag } from '../../src/fhe/envelope'
import { parseEvaluationBundle } from '../../src/fhe/evaluation-bundle'

const parameters = resolveCkksParameters('ckks-4096')
let client: FheKeyManager
let backend: WorkerPoolBackend

beforeAll(async () => {
  client = await FheKeyManager.generate({ parameters: 'ckks-4096' })
  backend = new WorkerPoolBackend({ parameters, workers: 2 })
  await backend.setMatrix('collection:docs', {
    rows: 4,
    dimension: 8,
    values: Float64Array.from({ length: 32 }, (_, index) => Math.sin(index)),
    modes: ['single'],
  })
}, 60_000)

afterAll(async () => {
  client.dispose()
  await backend.close()
})

describe('WorkerPoolBackend', () => {
  it('refuses a product under keys it dropped instead of loading them into the workers again', async () => {
    const { keys } = parseEvaluationBundle(
      client.evaluationKeys({ galoisSteps: requiredGaloisSteps(8) }),
      parameters,
    )
    const input = decodeEnvelope(client.encrypt([1, 2, 3]), EnvelopeKind.ciphertext).sections.get(
      SectionTag.ciphertext,
    )!
    const request = {
      keyTag: 'victim#1',
      keys,
      matrixId: 'collection:docs',
      mode: 'single' as const,
      input,
      compression: 'none' as const,
    }
    await backend.loadEvaluationKeys('victim#1', keys)
    expect(await backend.evaluate(request)).toHaveLength(1)
    await backend.dropEvaluationKeys('victim#1')
    await expect(backend.evaluate(request)).rejects.toMatchObject({ code: 'CONTINUUM_FHE_KEYS_UNKNOWN' })
    // Loaded again explicitly (a new upload), the tag works again.
    await backend.loadEvaluationKeys('victim#1', keys)
    expect(await backend.evaluate(request)).toHaveLength(1)
  }, 60_000)
})
