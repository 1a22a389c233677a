/**
 * Frozen copy of the feature hasher as it was before the speed work (substring-style FNV over
 * `charCodeAt`, a Float64 accumulator over the whole table). It is kept only as the reference
 * that test/scanner/feature-equivalence.test.ts compares the optimised hasher against: the
 * shipped weights are only valid while both produce the same vectors bit for bit.
 */

/** How features are drawn from text; stored with the weights so a model cannot be misread. */
export interface FeatureConfig {
  /** log2 of the vector size. */
  readonly dimensionBits: number
  /** Smallest and largest character n-gram length; `[0, 0]` disables character n-grams. */
  readonly charGrams: readonly [number, number]
  /** Whether word bigrams are hashed as well as unigrams. */
  readonly wordBigrams: boolean
}

/** A sparse feature vector: parallel index and value arrays, indices unique. */
export interface SparseVector {
  readonly indices: Int32Array
  readonly values: Float32Array
}

const FNV_OFFSET = 0x811c9dc5
const FNV_PRIME = 0x01000193
const WORD_SEED = 0x9e3779b1
const BIGRAM_SEED = 0x85ebca77
const CHAR_SEED = 0xc2b2ae3d

/** ASCII letters and digits, looked up by code unit; other units go through a Unicode test. */
const ASCII_WORD = new Uint8Array(128)
for (let code = 0; code < 128; code++) {
  const char = String.fromCharCode(code)
  ASCII_WORD[code] = /[a-z0-9]/.test(char) ? 1 : 0
}
const UNICODE_WORD = /[\p{L}\p{N}]/u

function isWordUnit(text: string, index: number): boolean {
  const code = text.charCodeAt(index)
  if (code < 128) return ASCII_WORD[code] === 1
  // Surrogate halves of astral letters count as word units; a lone emoji half does no harm.
  if (code >= 0xd800 && code <= 0xdfff) return true
  return UNICODE_WORD.test(text[index]!)
}

/** FNV-1a over `text[start, end)`, mixed with a seed per feature kind. */
function hashRange(text: string, start: number, end: number, seed: number): number {
  let hash = (FNV_OFFSET ^ seed) >>> 0
  for (let index = start; index < end; index++) {
    hash ^= text.charCodeAt(index)
    hash = Math.imul(hash, FNV_PRIME)
  }
  // Final avalanche so the low bits (the index) and the top bit (the sign) are independent.
  hash ^= hash >>> 16
  hash = Math.imul(hash, 0x7feb352d)
  hash ^= hash >>> 15
  return hash >>> 0
}

/**
 * Turns normalised text into hashed features. One instance reuses its accumulator between calls,
 * so scoring allocates nothing per prompt; it is not re-entrant, which is fine on one JS thread.
 */
export class FeatureHasher {
  readonly config: FeatureConfig
  private readonly mask: number
  private readonly accumulator: Float64Array
  private touched: Int32Array
  private touchedCount = 0

  constructor(config: FeatureConfig) {
    this.config = config
    this.mask = (1 << config.dimensionBits) - 1
    this.accumulator = new Float64Array(1 << config.dimensionBits)
    this.touched = new Int32Array(4096)
  }

  /** The vector size. */
  get dimension(): number {
    return this.mask + 1
  }

  /** The sparse vector of `normalized` (a fresh copy, for training). */
  vectorize(normalized: string): SparseVector {
    const norm = this.accumulate(normalized)
    const indices = new Int32Array(this.touchedCount)
    const values = new Float32Array(this.touchedCount)
    for (let slot = 0; slot < this.touchedCount; slot++) {
      const index = this.touched[slot]!
      indices[slot] = index
      values[slot] = norm === 0 ? 0 : this.damped(index) / norm
    }
    this.reset()
    return { indices, values }
  }

  /** The dot product of `normalized`'s vector with `weights`, without allocating. */
  dot(normalized: string, weights: Float32Array): number {
    const norm = this.accumulate(normalized)
    let sum = 0
    if (norm > 0) {
      for (let slot = 0; slot < this.touchedCount; slot++) {
        const index = this.touched[slot]!
        sum += weights[index]! * this.damped(index)
      }
      sum /= norm
    }
    this.reset()
    return sum
  }

  private damped(index: number): number {
    const count = this.accumulator[index]!
    return count >= 0 ? Math.log1p(count) : -Math.log1p(-count)
  }

  /** Adds every feature of `text` into the accumulator; returns the L2 norm of the damped vector. */
  private accumulate(text: string): number {
    const [minGram, maxGram] = this.config.charGrams
    let previousStart = -1
    let previousEnd = -1
    let index = 0
    while (index < text.length) {
      if (!isWordUnit(text, index)) {
        index++
        continue
      }
      const start = index
      while (index < text.length && isWordUnit(text, index)) index++
      this.add(hashRange(text, start, index, WORD_SEED))
      if (this.config.wordBigrams && previousStart >= 0) {
        // The bigram hash covers "previous gap current" verbatim; the gap is at most one space
        // or a punctuation run, which keeps "ignore. previous" apart from "ignore previous".
        this.add(hashRange(text, previousStart, index, BIGRAM_SEED ^ (start - previousEnd)))
      }
      previousStart = start
      previousEnd = index
    }
    if (maxGram > 0) {
      for (let start = 0; start < text.length; start++) {
        for (let length = minGram; length <= maxGram && start + length <= text.length; length++) {
          this.add(hashRange(text, start, start + length, CHAR_SEED + length))
        }
      }
    }
    let squares = 0
    for (let slot = 0; slot < this.touchedCount; slot++) {
      const value = this.damped(this.touched[slot]!)
      squares += value * value
    }
    return Math.sqrt(squares)
  }

  private add(hash: number): void {
    const index = hash & this.mask
    const sign = hash & 0x80000000 ? -1 : 1
    const previous = this.accumulator[index]!
    if (previous === 0) {
      if (this.touchedCount === this.touched.length) {
        const grown = new Int32Array(this.touched.length * 2)
        grown.set(this.touched)
        this.touched = grown
      }
      this.touched[this.touchedCount++] = index
    }
    // Signed collisions can sum to zero; a tiny stand-in keeps "touched" distinct from "empty" so
    // an index is never listed twice.
    const next = previous + sign
    this.accumulator[index] = next === 0 ? Number.MIN_VALUE : next
  }

  private reset(): void {
    for (let slot = 0; slot < this.touchedCount; slot++) this.accumulator[this.touched[slot]!] = 0
    this.touchedCount = 0
  }
}
