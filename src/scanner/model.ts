/**
 * The shipped prompt-injection classifier: logistic regression over hashed features, weights
 * quantised to signed bytes and stored base64 in a small JSON file that is bundled with the
 * package, so nothing is downloaded at run time. `scripts/train-scanner.ts` writes that file.
 *
 * Format 2 adds how texts are cut into chunks (each chunk is scored as well as the document, so a
 * planted sentence is not diluted by the text around it) and the combiner that weighs the
 * classifier against the patterns and signals. Format 1 files (one score per whole text, combined
 * by the fixed pattern weights) still load.
 */
import { ContinuumError } from '../errors'
import { Combiner, type CombinerJSON } from './combiner'
import { DocumentFeatures } from './document-features'
import { EVIDENCE_LAYOUT } from './evidence'
import type { FeatureConfig } from './features'

/** The JSON form of a model, as written by the training script. */
export interface InjectionModelJSON {
  /** Format version; bumped when the feature code changes meaning. */
  readonly format: 1 | 2
  readonly features: FeatureConfig
  readonly bias: number
  /** Weight of one quantisation step: weight = byte × scale. */
  readonly scale: number
  /** Signed bytes, one per feature index, base64-encoded. */
  readonly weights: string
  /** Format 2: the largest chunk, in UTF-16 code units, a text is cut into for scoring. */
  readonly maxChunk?: number
  /** Format 2: how the evidence is weighed into the score. */
  readonly combiner?: CombinerJSON
  /** What the model was trained on, for humans reading the file. */
  readonly trainedOn?: Readonly<Record<string, number>>
  /** The hyper-parameters training chose, for humans reading the file. */
  readonly training?: Readonly<Record<string, unknown>>
}

/** Format 2 settings of {@link InjectionModel}. */
export interface InjectionModelParts {
  readonly maxChunk: number
  readonly combiner: Combiner
}

const invalid = (message: string): ContinuumError =>
  new ContinuumError('CONTINUUM_INVALID_OPTIONS', `Scanner model: ${message}`)

/** A loaded classifier: the probability that a normalised text is an injection or jailbreak. */
export class InjectionModel {
  readonly bias: number
  /** Format 2 only: chunk size and combiner; absent for a format 1 model. */
  readonly parts: InjectionModelParts | undefined
  private readonly weights: Float32Array
  private readonly documents: DocumentFeatures

  constructor(features: FeatureConfig, weights: Float32Array, bias: number, parts?: InjectionModelParts) {
    if (weights.length !== 1 << features.dimensionBits) {
      throw invalid('weights do not match its feature size')
    }
    this.documents = new DocumentFeatures(features)
    this.weights = weights
    this.bias = bias
    this.parts = parts
  }

  /** Reads the training script's JSON; throws CONTINUUM_INVALID_OPTIONS when it is malformed. */
  static fromJSON(json: InjectionModelJSON): InjectionModel {
    if (json === null || typeof json !== 'object' || (json.format !== 1 && json.format !== 2)) {
      throw invalid('unknown format')
    }
    const { features } = json
    const validBits = Number.isInteger(features?.dimensionBits) && features.dimensionBits >= 8
    if (!validBits || features.dimensionBits > 22 || !Number.isFinite(json.bias) || !(json.scale > 0)) {
      throw invalid('invalid header')
    }
    let parts: InjectionModelParts | undefined
    if (json.format === 2) {
      const maxChunk = json.maxChunk
      if (typeof maxChunk !== 'number' || !Number.isInteger(maxChunk) || maxChunk < 16 || maxChunk > 65536) {
        throw invalid('maxChunk must be an integer from 16 to 65536')
      }
      if (json.combiner === undefined) throw invalid('format 2 needs a combiner')
      parts = { maxChunk, combiner: Combiner.fromJSON(json.combiner, EVIDENCE_LAYOUT) }
    }
    const bytes = Buffer.from(json.weights, 'base64')
    const weights = new Float32Array(bytes.length)
    for (let index = 0; index < bytes.length; index++) {
      const byte = bytes[index]!
      weights[index] = (byte > 127 ? byte - 256 : byte) * json.scale
    }
    return new InjectionModel(features, weights, json.bias, parts)
  }

  /** The feature settings the weights were trained with. */
  get features(): FeatureConfig {
    return this.documents.hasher.config
  }

  /** The classifier's logit for a text already passed through `normalizeText`, scored whole. */
  logit(normalized: string): number {
    return this.documents.hasher.dot(normalized, this.weights) + this.bias
  }

  /** The injection probability of a text already passed through `normalizeText`, scored whole. */
  probability(normalized: string): number {
    return 1 / (1 + Math.exp(-this.logit(normalized)))
  }

  /**
   * The logit of a document given as normalised chunks (its features are all the chunks'
   * features together); `chunkLogits[i]` receives chunk i's own logit.
   */
  chunkedLogit(chunks: readonly string[], chunkLogits: Float64Array): number {
    const document = this.documents.score(chunks, this.weights, chunkLogits) + this.bias
    for (let chunk = 0; chunk < chunks.length; chunk++) chunkLogits[chunk] = chunkLogits[chunk]! + this.bias
    return document
  }
}

/** Quantises float weights to signed bytes with one shared scale (max |w| maps to 127). */
export function quantizeWeights(weights: Float32Array): { scale: number; bytes: Uint8Array } {
  let largest = 0
  for (const weight of weights) largest = Math.max(largest, Math.abs(weight))
  const scale = largest === 0 ? 1 : largest / 127
  const bytes = new Uint8Array(weights.length)
  for (let index = 0; index < weights.length; index++) {
    const step = Math.max(-127, Math.min(127, Math.round(weights[index]! / scale)))
    bytes[index] = step < 0 ? step + 256 : step
  }
  return { scale, bytes }
}
