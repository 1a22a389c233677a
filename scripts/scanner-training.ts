/**
 * Trains the hashed logistic-regression classifier on a subset of the corpus: per-coordinate
 * AdaGrad with lazy L2 decay on a seeded shuffle, so the same rows always yield the same weights.
 *
 * Each row teaches through its document vector and, when it has several chunks, through them
 * too (multiple-instance learning): every chunk of a benign row is benign (together they weigh
 * like one example), while of an injection's chunks only the one the current weights rate
 * highest is taken as the injection, since the data does not say which chunk holds it. That is
 * what lets one planted sentence score high on its own at run time.
 */
import type { SparseVector } from '../src/scanner/features'
import { quantizeWeights } from '../src/scanner/model'
import type { CorpusRow } from './scanner-corpus'

/** Classifier hyper-parameters (the feature settings belong to the corpus). */
export interface ClassifierSettings {
  readonly epochs: number
  readonly learningRate: number
  readonly l2: number
  readonly seed: number
}

/** Trained weights, already quantised as shipped (`weights` is the dequantised view). */
export interface TrainedClassifier {
  readonly weights: Float32Array
  readonly bias: number
  readonly scale: number
  readonly bytes: Uint8Array
}

/** Mulberry32: a tiny seeded generator, so shuffles are identical on every machine. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let value = state
    value = Math.imul(value ^ (value >>> 15), value | 1)
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61)
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296
  }
}

/** `vector · weights`. */
export function dot(vector: SparseVector, weights: Float32Array): number {
  const { indices, values } = vector
  let sum = 0
  for (let slot = 0; slot < indices.length; slot++) sum += weights[indices[slot]!]! * values[slot]!
  return sum
}

/** The training vectors of a corpus with features renumbered by how often they occur. */
interface CompactCorpus {
  /** Per corpus row: its document and training parts, renumbered (values shared with the row). */
  readonly rows: readonly { readonly document: SparseVector; readonly parts: readonly SparseVector[] }[]
  /** The original feature of each new number. */
  readonly features: Int32Array
}

const compacted = new WeakMap<readonly CorpusRow[], CompactCorpus>()

/**
 * Renumbers the features of a corpus's training vectors, most frequent first, once per corpus.
 * Feature frequencies follow a power law, so the state of the features most steps touch then
 * sits together in a few hundred kilobytes that stay in cache, where the hashed numbering spreads
 * it over all of the 2 MB table.
 */
function compactCorpus(corpus: readonly CorpusRow[], dimension: number): CompactCorpus {
  const known = compacted.get(corpus)
  if (known !== undefined) return known
  const counts = new Float64Array(dimension)
  const count = (vector: SparseVector): void => {
    for (const feature of vector.indices) counts[feature]!++
  }
  for (const row of corpus) {
    count(row.document)
    row.parts.forEach(count)
  }
  const seen: number[] = []
  for (let feature = 0; feature < dimension; feature++) if (counts[feature]! > 0) seen.push(feature)
  seen.sort((left, right) => counts[right]! - counts[left]! || left - right)
  const numberOf = new Int32Array(dimension)
  seen.forEach((feature, number) => {
    numberOf[feature] = number
  })
  const renumbered = new Map<SparseVector, SparseVector>()
  const renumber = (vector: SparseVector): SparseVector => {
    let result = renumbered.get(vector)
    if (result === undefined) {
      const indices = new Int32Array(vector.indices.length)
      for (let slot = 0; slot < indices.length; slot++) indices[slot] = numberOf[vector.indices[slot]!]!
      result = { indices, values: vector.values }
      renumbered.set(vector, result)
    }
    return result
  }
  const result: CompactCorpus = {
    rows: corpus.map((row) => ({ document: renumber(row.document), parts: row.parts.map(renumber) })),
    features: Int32Array.from(seen),
  }
  compacted.set(corpus, result)
  return result
}

/**
 * Trains on `corpus[rowIndices]` and returns quantised weights.
 *
 * Speed: a fit trains nine classifiers, each some 250 million feature reads and updates on the
 * whole data, and the weight and AdaGrad tables (2^18 floats each) are larger than a core's cache,
 * so most feature accesses miss it. Each feature's weight and squared-gradient sum therefore sit
 * side by side in one table (`state[2f]`, `state[2f + 1]`): one miss per feature instead of two;
 * and features are numbered by frequency (compactCorpus), so the common ones share cache lines.
 * Neither changes a result: every feature's state is its own and starts the same, the slots of a
 * vector keep their order (so sums round as before), and the arithmetic, with its rounding to
 * 32-bit floats at every store, is that of two separate Float32Arrays. The weights are the same
 * to the bit.
 */
export function trainClassifier(
  corpus: readonly CorpusRow[],
  rowIndices: readonly number[],
  dimension: number,
  settings: ClassifierSettings,
): TrainedClassifier {
  const compact = compactCorpus(corpus, dimension)
  const used = compact.features.length
  const state = new Float32Array(2 * used)
  for (let feature = 0; feature < used; feature++) state[2 * feature + 1] = 1e-8
  const { l2, learningRate } = settings
  let bias = 0
  let biasSquared = 1e-8
  // Balanced classes: a row weighs as much through its chunks as through its document.
  const positives = rowIndices.filter((index) => corpus[index]!.label === 1).length
  const total = rowIndices.length
  const classWeight = [total / (2 * Math.max(1, total - positives)), total / (2 * Math.max(1, positives))]

  const logitOf = (vector: SparseVector): number => {
    const { indices, values } = vector
    let sum = 0
    for (let slot = 0; slot < indices.length; slot++) sum += state[2 * indices[slot]!]! * values[slot]!
    return sum
  }

  const step = (vector: SparseVector, label: 0 | 1, weight: number): void => {
    const { indices, values } = vector
    let logit = bias
    for (let slot = 0; slot < indices.length; slot++) logit += state[2 * indices[slot]!]! * values[slot]!
    const error = (1 / (1 + Math.exp(-logit)) - label) * weight
    for (let slot = 0; slot < indices.length; slot++) {
      const at = 2 * indices[slot]!
      const current = state[at]!
      const gradient = error * values[slot]! + l2 * current
      // Stored (so rounded to float32) before the square root reads it, as in the original tables.
      const squared = Math.fround(state[at + 1]! + gradient * gradient)
      state[at + 1] = squared
      state[at] = current - (learningRate * gradient) / Math.sqrt(squared)
    }
    biasSquared += error * error
    bias -= (learningRate * error) / Math.sqrt(biasSquared)
  }

  const random = seededRandom(settings.seed)
  const order = [...rowIndices]
  for (let epoch = 0; epoch < settings.epochs; epoch++) {
    for (let index = order.length - 1; index > 0; index--) {
      const other = Math.floor(random() * (index + 1))
      ;[order[index], order[other]] = [order[other]!, order[index]!]
    }
    for (const rowIndex of order) {
      const label = corpus[rowIndex]!.label
      const row = compact.rows[rowIndex]!
      const weight = classWeight[label]!
      step(row.document, label, weight)
      if (row.parts.length === 0) continue
      if (label === 0) {
        for (const part of row.parts) step(part, 0, weight / row.parts.length)
      } else {
        let best = row.parts[0]!
        let bestLogit = logitOf(best)
        for (let part = 1; part < row.parts.length; part++) {
          const logit = logitOf(row.parts[part]!)
          if (logit > bestLogit) {
            best = row.parts[part]!
            bestLogit = logit
          }
        }
        step(best, 1, weight)
      }
    }
  }
  const weights = new Float32Array(dimension)
  for (let number = 0; number < used; number++) weights[compact.features[number]!] = state[2 * number]!
  const { scale, bytes } = quantizeWeights(weights)
  const quantised = new Float32Array(dimension)
  for (let index = 0; index < dimension; index++) {
    const byte = bytes[index]!
    quantised[index] = (byte > 127 ? byte - 256 : byte) * scale
  }
  return { weights: quantised, bias, scale, bytes }
}

/**
 * The classifier's two evidence values for a corpus row, as the scanner computes them: the
 * document's logit and the best logit over the document, its chunks and its payloads.
 */
export function classifierLogits(row: CorpusRow, model: TrainedClassifier): [document: number, best: number] {
  const document = dot(row.document, model.weights) + model.bias
  let best = document
  for (const part of row.allParts) best = Math.max(best, dot(part, model.weights) + model.bias)
  return [document, best]
}
