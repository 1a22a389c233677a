/**
 * Hashed features of a normalised prompt: word unigrams and bigrams plus character 3- to
 * 5-grams, each hashed (FNV-1a) into a fixed-size vector with a hash-derived sign so collisions
 * cancel instead of piling up. Counts are damped with log1p and the vector is L2-normalised, so a
 * 10 KB jailbreak and a one-line question weigh alike. The same code builds training vectors and
 * scores prompts at run time, so the shipped weights always mean what the trainer meant.
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

import { SlotTable } from './slot-table'

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

/**
 * Word-unit verdicts for every code unit, filled on first sight: 0 not yet known, 1 word, 2 not.
 * The Unicode property test is a regular expression call, too slow to repeat per character.
 */
const WORD_UNIT = new Uint8Array(65536)
for (let code = 0; code < 128; code++) WORD_UNIT[code] = ASCII_WORD[code] === 1 ? 1 : 2
// Surrogate halves of astral letters count as word units; a lone emoji half does no harm.
WORD_UNIT.fill(1, 0xd800, 0xe000)

function isWordCode(code: number): boolean {
  let verdict = WORD_UNIT[code]!
  if (verdict === 0) {
    verdict = UNICODE_WORD.test(String.fromCharCode(code)) ? 1 : 2
    WORD_UNIT[code] = verdict
  }
  return verdict === 1
}

/** FNV-1a state after the seed of a feature kind, before any character. */
const seeded = (seed: number): number => (FNV_OFFSET ^ seed) >>> 0

/** Final avalanche so the low bits (the index) and the top bit (the sign) are independent. */
function avalanche(state: number): number {
  let hash = state ^ (state >>> 16)
  hash = Math.imul(hash, 0x7feb352d)
  hash ^= hash >>> 15
  return hash >>> 0
}

/** FNV-1a over `units[start, end)` from a seeded state, then the avalanche. */
function hashUnits(units: Uint16Array, start: number, end: number, state: number): number {
  let hash = state
  for (let index = start; index < end; index++) hash = Math.imul(hash ^ units[index]!, FNV_PRIME)
  return avalanche(hash)
}

/** `Math.log1p` of small counts, computed once: the damped value of almost every feature. */
const LOG1P = new Float64Array(256).map((_, count) => Math.log1p(count))

/** log1p damping that keeps the sign; a touched feature whose signs cancelled stays a tiny non-zero. */
export function damp(count: number): number {
  if (count === 0) return Number.MIN_VALUE
  if (count > 0) return count < 256 ? LOG1P[count]! : Math.log1p(count)
  return count > -256 ? -LOG1P[-count]! : -Math.log1p(-count)
}

/**
 * Turns normalised text into hashed features. One instance reuses its buffers between calls, so
 * scoring allocates nothing per prompt; it is not re-entrant, which is fine on one JS thread.
 *
 * Features are kept as dense "slots" in first-seen order (`slotOf` maps a vector index to its
 * slot; see slot-table.ts), so the norm and the dot product walk small sequential arrays instead of the whole
 * table, and sums are taken in the same order on every run: scores are bit-for-bit stable.
 */
export class FeatureHasher {
  readonly config: FeatureConfig
  private readonly mask: number
  /** Vector index → slot, for the features of the current text. */
  private readonly slotOf: SlotTable
  /** Slot → vector index, in first-seen order. */
  private touched: Int32Array
  /** Slot → signed count. */
  private counts: Int32Array
  /** Slot → damped count, filled while the norm is taken. */
  private damped: Float64Array
  private touchedCount = 0
  /** The text's UTF-16 code units, copied once so hashing reads a typed array. */
  private units: Uint16Array

  constructor(config: FeatureConfig) {
    this.config = config
    this.mask = (1 << config.dimensionBits) - 1
    this.slotOf = new SlotTable(1 << config.dimensionBits)
    this.touched = new Int32Array(4096)
    this.counts = new Int32Array(4096)
    this.damped = new Float64Array(4096)
    this.units = new Uint16Array(4096)
  }

  /** The vector size. */
  get dimension(): number {
    return this.mask + 1
  }

  /** The sparse vector of `normalized` (a fresh copy, for training). */
  vectorize(normalized: string): SparseVector {
    this.load(normalized)
    const vector = this.loadedVector()
    this.clear()
    return vector
  }

  /** The dot product of `normalized`'s vector with `weights`, without allocating. */
  dot(normalized: string, weights: Float32Array): number {
    this.load(normalized)
    const sum = this.loadedDot(weights)
    this.clear()
    return sum
  }

  /**
   * Hashes `normalized` into the slots and returns how many distinct features it has. The slots
   * stay loaded (readable through {@link loadedIndices} and {@link loadedCounts}) until
   * {@link clear}, which is how a document is assembled from its chunks without hashing twice.
   */
  load(normalized: string): number {
    // The slots of the previous text must have been cleared: the table is sized per text.
    this.reserve(normalized.length)
    this.hashFeatures(normalized)
    return this.touchedCount
  }

  /** Vector index of each loaded slot, in first-seen order (valid up to the loaded count). */
  get loadedIndices(): Int32Array {
    return this.touched
  }

  /** Signed count of each loaded slot. */
  get loadedCounts(): Int32Array {
    return this.counts
  }

  /**
   * The damped, L2-normalised dot product of the loaded features with `weights`. One pass: the
   * squares and the weighted sum are separate accumulators taken in slot order, so the result
   * is bit for bit that of taking the norm first and the sum after.
   */
  loadedDot(weights: Float32Array): number {
    const touched = this.touched
    const counts = this.counts
    let squares = 0
    let sum = 0
    for (let slot = 0; slot < this.touchedCount; slot++) {
      const value = damp(counts[slot]!)
      squares += value * value
      sum += weights[touched[slot]!]! * value
    }
    return squares > 0 ? sum / Math.sqrt(squares) : 0
  }

  /** The loaded features as a fresh sparse vector (damped, L2-normalised). */
  loadedVector(): SparseVector {
    const norm = this.dampAndNorm()
    const indices = new Int32Array(this.touchedCount)
    const values = new Float32Array(this.touchedCount)
    for (let slot = 0; slot < this.touchedCount; slot++) {
      indices[slot] = this.touched[slot]!
      values[slot] = norm === 0 ? 0 : this.damped[slot]! / norm
    }
    return { indices, values }
  }

  /** Forgets the loaded features (cost proportional to their number, not to the table). */
  clear(): void {
    this.slotOf.clear()
    this.touchedCount = 0
  }

  /**
   * Adds every feature of `text` (the buffers already reserved). Kept free of allocation and
   * rare paths so V8 inlines `add` into its loops even after long texts have run.
   */
  private hashFeatures(text: string): void {
    const length = text.length
    const units = this.units
    for (let index = 0; index < length; index++) units[index] = text.charCodeAt(index)

    const wordState = seeded(WORD_SEED)
    const wordBigrams = this.config.wordBigrams
    let previousStart = -1
    let previousEnd = -1
    let index = 0
    while (index < length) {
      if (!isWordCode(units[index]!)) {
        index++
        continue
      }
      const start = index
      while (index < length && isWordCode(units[index]!)) index++
      this.add(hashUnits(units, start, index, wordState))
      if (wordBigrams && previousStart >= 0) {
        // The bigram hash covers "previous gap current" verbatim; the gap is at most one space
        // or a punctuation run, which keeps "ignore. previous" apart from "ignore previous".
        this.add(hashUnits(units, previousStart, index, seeded(BIGRAM_SEED ^ (start - previousEnd))))
      }
      previousStart = start
      previousEnd = index
    }

    const [minGram, maxGram] = this.config.charGrams
    if (maxGram > 0) {
      const gramStates: number[] = []
      for (let gram = minGram; gram <= maxGram; gram++) gramStates.push(seeded(CHAR_SEED + gram))
      let start = 0
      if (minGram === 3 && maxGram === 5) {
        // The shipped shape, unrolled: each start reads five units once and hashes 3, 4 and 5.
        const state3 = gramStates[0]!
        const state4 = gramStates[1]!
        const state5 = gramStates[2]!
        for (; start + 5 <= length; start++) {
          const first = units[start]!
          const second = units[start + 1]!
          const third = units[start + 2]!
          const fourth = units[start + 3]!
          const fifth = units[start + 4]!
          const three = Math.imul(
            Math.imul(Math.imul(state3 ^ first, FNV_PRIME) ^ second, FNV_PRIME) ^ third,
            FNV_PRIME,
          )
          this.add(avalanche(three))
          let four = Math.imul(
            Math.imul(Math.imul(state4 ^ first, FNV_PRIME) ^ second, FNV_PRIME) ^ third,
            FNV_PRIME,
          )
          four = Math.imul(four ^ fourth, FNV_PRIME)
          this.add(avalanche(four))
          let five = Math.imul(
            Math.imul(Math.imul(state5 ^ first, FNV_PRIME) ^ second, FNV_PRIME) ^ third,
            FNV_PRIME,
          )
          five = Math.imul(Math.imul(five ^ fourth, FNV_PRIME) ^ fifth, FNV_PRIME)
          this.add(avalanche(five))
        }
      }
      for (; start < length; start++) {
        for (let gram = minGram; gram <= maxGram && start + gram <= length; gram++) {
          this.add(hashUnits(units, start, start + gram, gramStates[gram - minGram]!))
        }
      }
    }
  }

  /**
   * The most distinct features a text of `length` units can have: one word, one bigram and one
   * n-gram per length at each unit, and never more than the vector has indices.
   */
  capacityFor(length: number): number {
    const [minGram, maxGram] = this.config.charGrams
    const gramLengths = maxGram > 0 ? maxGram - minGram + 1 : 0
    return Math.min(this.mask + 1, length * (2 + gramLengths))
  }

  /** Fills `damped` from the counts and returns the L2 norm of the damped vector. */
  private dampAndNorm(): number {
    let squares = 0
    for (let slot = 0; slot < this.touchedCount; slot++) {
      const value = damp(this.counts[slot]!)
      this.damped[slot] = value
      squares += value * value
    }
    return Math.sqrt(squares)
  }

  private add(hash: number): void {
    const index = hash & this.mask
    let slot = this.slotOf.find(index)
    if (slot < 0) {
      const entry = -1 - slot
      slot = this.touchedCount++
      this.slotOf.insert(entry, index, slot)
      this.touched[slot] = index
      this.counts[slot] = 0
    }
    this.counts[slot] = this.counts[slot]! + (hash & 0x80000000 ? -1 : 1)
  }

  /**
   * Sizes the buffers for a text of `length` units before any hashing, so `add` never checks for
   * room: a text has at most one word, one bigram and one n-gram per length at each unit, and
   * never more distinct features than the table has slots. (A growth check inside `add` also
   * made V8 stop inlining it once a long text had exercised that path.)
   */
  private reserve(length: number): void {
    if (this.units.length < length) this.units = new Uint16Array(Math.max(length, this.units.length * 2))
    const capacity = this.capacityFor(length)
    this.slotOf.prepare(capacity)
    if (this.touched.length >= capacity) return
    const size = Math.min(this.mask + 1, Math.max(capacity, this.touched.length * 2))
    this.touched = new Int32Array(size)
    this.counts = new Int32Array(size)
    this.damped = new Float64Array(size)
  }
}
