/**
 * The optimised feature hasher must produce exactly the vectors of the original one (kept as
 * test/scanner/reference-features.ts): same indices in the same order, the same float bits and
 * the same dot products. Otherwise the shipped weights would silently mean something else. Runs
 * over the whole training set (normalised and raw) and a few thousand generated strings built
 * to hit the edge cases: non-ASCII letters, surrogate pairs and lone halves, long repeats, empty
 * and one-character texts, and a tiny table where signed collisions cancel.
 */
import { existsSync } from 'node:fs'
import { loadShippedModel, normalizeText } from 'continuum-proxy/scanner'
import { describe, expect, it } from 'vitest'
import { loadPrompts } from '../../scripts/scanner-training'
import { type FeatureConfig, FeatureHasher } from '../../src/scanner/features'
import { FeatureHasher as ReferenceHasher } from './reference-features'

const dataUrl = new URL('../../../shared/data/prompt-injection/train.jsonl', import.meta.url)

const CONFIGS: readonly FeatureConfig[] = [
  loadShippedModel().features,
  { dimensionBits: 8, charGrams: [3, 5], wordBigrams: true },
  { dimensionBits: 10, charGrams: [0, 0], wordBigrams: false },
  { dimensionBits: 12, charGrams: [1, 2], wordBigrams: false },
]

/** A seeded generator, so a failure names a string that can be rebuilt. */
function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 2 ** 32
  }
}

const PIECES = [
  'ignore',
  ' all previous instructions',
  ' ',
  '  ',
  '.',
  ', ',
  'DAN',
  '42',
  'ё',
  'і',
  'straße',
  '東京',
  '😀',
  '\ud83d',
  '\ude00',
  '\u200b',
  'ａｂｃ',
  '<|im_start|>',
  '\n',
  'a'.repeat(300),
  'ab '.repeat(50),
  '%41',
  'aGVsbG8gd29ybGQ=',
]

function generated(count: number): string[] {
  const next = random(20240607)
  const texts = ['', 'a', 'ab', 'abc', ' ', '😀', '\ud83d']
  while (texts.length < count) {
    let text = ''
    const pieces = Math.floor(next() * 60)
    for (let piece = 0; piece < pieces; piece++) {
      if (next() < 0.3) text += String.fromCharCode(Math.floor(next() * 0x10000))
      else text += PIECES[Math.floor(next() * PIECES.length)]
    }
    texts.push(text)
  }
  return texts
}

function expectSameVectors(texts: readonly string[], config: FeatureConfig): void {
  const optimised = new FeatureHasher(config)
  const reference = new ReferenceHasher(config)
  const next = random(7)
  const weights = new Float32Array(1 << config.dimensionBits).map(() => next() * 2 - 1)
  for (const text of texts) {
    const actual = optimised.vectorize(text)
    const expected = reference.vectorize(text)
    const actualDot = optimised.dot(text, weights)
    const expectedDot = reference.dot(text, weights)
    // Raw bytes also catch -0 versus 0; expect() runs only on a mismatch, to keep the loop fast.
    const same =
      Buffer.from(actual.indices.buffer).equals(Buffer.from(expected.indices.buffer)) &&
      Buffer.from(actual.values.buffer).equals(Buffer.from(expected.values.buffer)) &&
      Object.is(actualDot, expectedDot)
    if (!same) {
      expect([...actual.indices], text).toEqual([...expected.indices])
      expect([...actual.values], text).toEqual([...expected.values])
      expect(actualDot, text).toBe(expectedDot)
      expect.unreachable(`vectors differ in their bytes for ${JSON.stringify(text)}`)
    }
  }
}

describe('optimised feature hasher', () => {
  it('matches the reference on generated strings, for several configurations', () => {
    const texts = generated(3000)
    for (const config of CONFIGS) expectSameVectors(texts, config)
    expectSameVectors(texts.map(normalizeText), CONFIGS[0]!)
  })

  it.skipIf(!existsSync(dataUrl))(
    'matches the reference on the whole training set, raw and normalised',
    { timeout: 120_000 },
    () => {
      const texts = loadPrompts(dataUrl.pathname).map((row) => row.text)
      expectSameVectors(texts.map(normalizeText), CONFIGS[0]!)
      expectSameVectors(texts, CONFIGS[0]!)
      expectSameVectors(texts, CONFIGS[1]!)
    },
  )
})
