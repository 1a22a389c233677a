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
 * Speed: a fit trains nine classifiers (eight of them in pairs, see trainClassifiers), each some
 * 250 million feature reads and updates on the whole data, and the weight and AdaGrad tables
 * (2^18 floats each) are larger than a core's cache, so most feature accesses miss it. Each feature's weight and squared-gradient sum therefore sit
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
  return trainClassifiers(corpus, rowIndices, dimension, settings, [settings.l2])[0]!
}

/**
 * Trains one classifier per L2 strength on the same rows: what {@link trainClassifier} returns
 * for each, to the bit, in half the passes over the data.
 *
 * The rows' order depends only on the seed and the rows, so every model sees the same examples in
 * the same order, and the models are trained two at a time in one pass that reads each vector
 * once for both. Their states sit side by side per feature (`state[4f + 2m]`, `state[4f + 2m + 1]`
 * for model m of the pair), so one cache line serves both. Each model's sums still run over the
 * slots in order from its own bias and its updates are its own, so nothing rounds differently;
 * where the two pick different chunks of an injection, each steps on its own.
 */
export function trainClassifiers(
  corpus: readonly CorpusRow[],
  rowIndices: readonly number[],
  dimension: number,
  settings: Omit<ClassifierSettings, 'l2'>,
  l2s: readonly number[],
): TrainedClassifier[] {
  const trained: TrainedClassifier[] = []
  for (let first = 0; first < l2s.length; first += 2) {
    trained.push(...trainPair(corpus, rowIndices, dimension, settings, l2s.slice(first, first + 2)))
  }
  return trained
}

/** {@link trainClassifiers} for one or two L2 strengths. */
function trainPair(
  corpus: readonly CorpusRow[],
  rowIndices: readonly number[],
  dimension: number,
  settings: Omit<ClassifierSettings, 'l2'>,
  l2s: readonly number[],
): TrainedClassifier[] {
  const compact = compactCorpus(corpus, dimension)
  const used = compact.features.length
  const models = l2s.length
  const stride = 2 * models
  const state = new Float32Array(stride * used)
  for (let at = 1; at < state.length; at += 2) state[at] = 1e-8
  const l2 = Float64Array.from(l2s)
  const { learningRate } = settings
  const bias = new Float64Array(models)
  const biasSquared = new Float64Array(models).fill(1e-8)
  // Balanced classes: a row weighs as much through its chunks as through its document.
  const positives = rowIndices.filter((index) => corpus[index]!.label === 1).length
  const total = rowIndices.length
  const classWeight = [total / (2 * Math.max(1, total - positives)), total / (2 * Math.max(1, positives))]

  /** Per model: a vector's logit, and the best of an injection's chunks so far. */
  const logits = new Float64Array(models)
  const bestLogits = new Float64Array(models)

  /** The vector's logit under one model, without the bias. */
  const logitOf = (vector: SparseVector, model: number): number => {
    const { indices, values } = vector
    const offset = 2 * model
    let sum = 0
    for (let slot = 0; slot < indices.length; slot++)
      sum += state[stride * indices[slot]! + offset]! * values[slot]!
    return sum
  }

  /** The vector's logit under each model of a pair, without the bias, into `logits`. */
  const logitsOfBoth = (vector: SparseVector): void => {
    const { indices, values } = vector
    let sum0 = 0
    let sum1 = 0
    for (let slot = 0; slot < indices.length; slot++) {
      const at = 4 * indices[slot]!
      const value = values[slot]!
      sum0 += state[at]! * value
      sum1 += state[at + 2]! * value
    }
    logits[0] = sum0
    logits[1] = sum1
  }

  /** One example's AdaGrad step for one model. */
  const step = (vector: SparseVector, label: 0 | 1, weight: number, model: number): void => {
    const { indices, values } = vector
    const offset = 2 * model
    const decay = l2[model]!
    let logit = bias[model]!
    for (let slot = 0; slot < indices.length; slot++)
      logit += state[stride * indices[slot]! + offset]! * values[slot]!
    const error = (1 / (1 + Math.exp(-logit)) - label) * weight
    for (let slot = 0; slot < indices.length; slot++) {
      const at = stride * indices[slot]! + offset
      const current = state[at]!
      const gradient = error * values[slot]! + decay * current
      // Stored (so rounded to float32) before the square root reads it, as in the original tables.
      const squared = Math.fround(state[at + 1]! + gradient * gradient)
      state[at + 1] = squared
      state[at] = current - (learningRate * gradient) / Math.sqrt(squared)
    }
    biasSquared[model] = biasSquared[model]! + error * error
    bias[model] = bias[model]! - (learningRate * error) / Math.sqrt(biasSquared[model]!)
  }

  /** One example's step for both models of a pair: {@link step} for each, in one pass. */
  const stepBoth = (vector: SparseVector, label: 0 | 1, weight: number): void => {
    const { indices, values } = vector
    const [decay0, decay1] = [l2[0]!, l2[1]!]
    let logit0 = bias[0]!
    let logit1 = bias[1]!
    for (let slot = 0; slot < indices.length; slot++) {
      const at = 4 * indices[slot]!
      const value = values[slot]!
      logit0 += state[at]! * value
      logit1 += state[at + 2]! * value
    }
    const error0 = (1 / (1 + Math.exp(-logit0)) - label) * weight
    const error1 = (1 / (1 + Math.exp(-logit1)) - label) * weight
    for (let slot = 0; slot < indices.length; slot++) {
      const at = 4 * indices[slot]!
      const value = values[slot]!
      const current0 = state[at]!
      const gradient0 = error0 * value + decay0 * current0
      const squared0 = Math.fround(state[at + 1]! + gradient0 * gradient0)
      state[at + 1] = squared0
      state[at] = current0 - (learningRate * gradient0) / Math.sqrt(squared0)
      const current1 = state[at + 2]!
      const gradient1 = error1 * value + decay1 * current1
      const squared1 = Math.fround(state[at + 3]! + gradient1 * gradient1)
      state[at + 3] = squared1
      state[at + 2] = current1 - (learningRate * gradient1) / Math.sqrt(squared1)
    }
    biasSquared[0] = biasSquared[0]! + error0 * error0
    bias[0] = bias[0]! - (learningRate * error0) / Math.sqrt(biasSquared[0]!)
    biasSquared[1] = biasSquared[1]! + error1 * error1
    bias[1] = bias[1]! - (learningRate * error1) / Math.sqrt(biasSquared[1]!)
  }

  /** Every model's step on one example. */
  const stepAll = (vector: SparseVector, label: 0 | 1, weight: number): void => {
    if (models === 2) stepBoth(vector, label, weight)
    else step(vector, label, weight, 0)
  }

  const random = seededRandom(settings.seed)
  const order = [...rowIndices]
  const bestPart = new Int32Array(models)
  for (let epoch = 0; epoch < settings.epochs; epoch++) {
    for (let index = order.length - 1; index > 0; index--) {
      const other = Math.floor(random() * (index + 1))
      ;[order[index], order[other]] = [order[other]!, order[index]!]
    }
    for (const rowIndex of order) {
      const label = corpus[rowIndex]!.label
      const row = compact.rows[rowIndex]!
      const weight = classWeight[label]!
      stepAll(row.document, label, weight)
      const parts = row.parts
      if (parts.length === 0) continue
      if (label === 0) {
        for (const part of parts) stepAll(part, 0, weight / parts.length)
        continue
      }
      // Each model takes the chunk it rates highest (the first of equals).
      for (let part = 0; part < parts.length; part++) {
        if (models === 2) logitsOfBoth(parts[part]!)
        else logits[0] = logitOf(parts[part]!, 0)
        for (let model = 0; model < models; model++) {
          if (part === 0 || logits[model]! > bestLogits[model]!) {
            bestPart[model] = part
            bestLogits[model] = logits[model]!
          }
        }
      }
      if (models === 2 && bestPart[0] === bestPart[1]) stepBoth(parts[bestPart[0]!]!, 1, weight)
      else for (let model = 0; model < models; model++) step(parts[bestPart[model]!]!, 1, weight, model)
    }
  }
  return l2s.map((_, model) => {
    const weights = new Float32Array(dimension)
    for (let number = 0; number < used; number++) {
      weights[compact.features[number]!] = state[stride * number + 2 * model]!
    }
    const { scale, bytes } = quantizeWeights(weights)
    const quantised = new Float32Array(dimension)
    for (let index = 0; index < dimension; index++) {
      const byte = bytes[index]!
      quantised[index] = (byte > 127 ? byte - 256 : byte) * scale
    }
    return { weights: quantised, bias: bias[model]!, scale, bytes }
  })
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
