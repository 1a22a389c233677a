import { ContinuumError } from 'continuum-proxy'
import {
  packQueries,
  planLayout,
  requiredGaloisSteps,
  resolveCkksParameters,
  unpackScores,
} from 'continuum-proxy/fhe'
import { describe, expect, it } from 'vitest'
import { diagonalValues } from '../../src/fhe/layout'

const codeOf = (action: () => unknown): string | undefined => {
  try {
    action()
  } catch (error) {
    return ContinuumError.isInstance(error) ? error.code : 'not-a-continuum-error'
  }
  return undefined
}

describe('CKKS parameter sets', () => {
  it('accepts every preset within the 128-bit bound', () => {
    for (const name of ['ckks-4096', 'ckks-8192', 'ckks-16384'] as const) {
      const resolved = resolveCkksParameters(name)
      expect(resolved.slotCount).toBe(resolved.polyModulusDegree / 2)
      expect(resolved.fingerprint).toMatch(/^[0-9a-f]{16}$/)
    }
    expect(resolveCkksParameters('ckks-4096').fingerprint).not.toBe(
      resolveCkksParameters('ckks-8192').fingerprint,
    )
  })

  it('rejects insecure or malformed sets with a code', () => {
    const insecure = { polyModulusDegree: 4096, coeffModulusBits: [40, 40, 40], scaleBits: 40 }
    expect(codeOf(() => resolveCkksParameters(insecure))).toBe('CONTINUUM_FHE_INSECURE_PARAMETERS')
    expect(() => resolveCkksParameters(insecure)).toThrow(/exceeds the 128-bit security bound of 109 bits/)
    expect(
      codeOf(() =>
        resolveCkksParameters({ polyModulusDegree: 8192, coeffModulusBits: [60, 60, 60, 60], scaleBits: 60 }),
      ),
    ).toBe('CONTINUUM_FHE_INSECURE_PARAMETERS')
    expect(
      codeOf(() =>
        resolveCkksParameters({ polyModulusDegree: 3000, coeffModulusBits: [30, 30, 30], scaleBits: 30 }),
      ),
    ).toBe('CONTINUUM_FHE_INSECURE_PARAMETERS')
    expect(
      codeOf(() =>
        resolveCkksParameters({ polyModulusDegree: 8192, coeffModulusBits: [60, 60], scaleBits: 40 }),
      ),
    ).toBe('CONTINUUM_FHE_INSECURE_PARAMETERS')
    expect(codeOf(() => resolveCkksParameters('ckks-1' as 'ckks-4096'))).toBe(
      'CONTINUUM_FHE_INSECURE_PARAMETERS',
    )
  })
})

/** Plain-number model of the encrypted BSGS evaluation, to check the layout math without SEAL. */
function simulate(
  rows: number[][],
  queries: number[][],
  slotCount: number,
  mode: 'single' | 'batched',
): Float64Array[] {
  const dimension = rows[0]!.length
  const layout = planLayout(rows.length, dimension, slotCount, mode)
  const matrix = Float64Array.from(rows.flat())
  const rotate = (values: Float64Array, step: number) =>
    values.map((_, slot) => values[(slot + step) % slotCount]!)
  const x = packQueries(layout, queries)
  const blocks: Float64Array[] = []
  for (let block = 0; block < layout.blocks; block++) {
    const babies = [x]
    for (let baby = 1; baby < layout.babyStep; baby++) babies.push(rotate(babies[baby - 1]!, 1))
    let accumulator = new Float64Array(slotCount)
    for (let giant = layout.giantSteps - 1; giant >= 0; giant--) {
      const inner = new Float64Array(slotCount)
      for (let baby = 0; baby < layout.babyStep; baby++) {
        const diagonal = diagonalValues(layout, matrix, block, giant, baby)
        if (diagonal)
          for (let slot = 0; slot < slotCount; slot++) inner[slot]! += diagonal[slot]! * babies[baby]![slot]!
      }
      accumulator = rotate(accumulator, layout.babyStep).map((value, slot) => value + inner[slot]!)
    }
    blocks.push(accumulator)
  }
  return unpackScores(layout, blocks, queries.length)
}

describe('diagonal layout', () => {
  const random = (count: number, seed: number) =>
    Array.from({ length: count }, (_, index) => Math.sin(seed * 97 + index * 13.1))

  it('needs only rotation steps 1 and b', () => {
    expect(requiredGaloisSteps(768)).toEqual([1, 32])
    expect(requiredGaloisSteps(48)).toEqual([1, 8])
    expect(requiredGaloisSteps(1)).toEqual([])
  })

  it.each([
    ['single, one block', 20, 12, 64, 'single', 1],
    ['single, several blocks', 150, 7, 64, 'single', 1],
    ['batched, several queries', 10, 5, 64, 'batched', 2],
  ] as const)('computes every dot product (%s)', (_, rowCount, dimension, slotCount, mode, queryCount) => {
    const rows = Array.from({ length: rowCount }, (_, row) => random(dimension, row + 1))
    const queries = Array.from({ length: queryCount }, (_, query) => random(dimension, 1000 + query))
    const scores = simulate(rows, queries, slotCount, mode)
    queries.forEach((query, index) => {
      rows.forEach((row, rowIndex) => {
        const expected = row.reduce((sum, value, column) => sum + value * query[column]!, 0)
        expect(scores[index]![rowIndex]).toBeCloseTo(expected, 10)
      })
    })
  })

  it('refuses sizes that do not fit', () => {
    expect(codeOf(() => planLayout(10, 100, 64, 'single'))).toBe('CONTINUUM_FHE_SIZE_MISMATCH')
    expect(codeOf(() => planLayout(60, 8, 64, 'batched'))).toBe('CONTINUUM_FHE_BATCH_TOO_LARGE')
    const layout = planLayout(10, 5, 64, 'batched')
    expect(layout.queryCapacity).toBe(2)
    expect(
      codeOf(() =>
        packQueries(layout, [
          [1, 2, 3, 4, 5],
          [1, 2, 3, 4, 5],
          [1, 2, 3, 4, 5],
        ]),
      ),
    ).toBe('CONTINUUM_FHE_BATCH_TOO_LARGE')
    expect(codeOf(() => packQueries(layout, [[1, 2]]))).toBe('CONTINUUM_FHE_SIZE_MISMATCH')
  })
})
