/**
 * The shipped prompt-injection classifier: logistic regression over hashed features, weights
 * quantised to signed bytes and stored base64 in a small JSON file that is bundled with the
 * package, so nothing is downloaded at run time. `scripts/train-scanner.ts` writes that file.
 */
import { ContinuumError } from '../errors'
import { type FeatureConfig, FeatureHasher } from './features'

/** The JSON form of a model, as written by the training script. */
export interface InjectionModelJSON {
  /** Format version; bumped when the feature code changes meaning. */
  readonly format: 1
  readonly features: FeatureConfig
  readonly bias: number
  /** Weight of one quantisation step: weight = byte × scale. */
  readonly scale: number
  /** Signed bytes, one per feature index, base64-encoded. */
  readonly weights: string
  /** What the model was trained on, for humans reading the file. */
  readonly trainedOn?: Readonly<Record<string, number>>
}

/** A loaded classifier: the probability that a normalised text is an injection or jailbreak. */
export class InjectionModel {
  readonly bias: number
  private readonly weights: Float32Array
  private readonly hasher: FeatureHasher

  constructor(features: FeatureConfig, weights: Float32Array, bias: number) {
    if (weights.length !== 1 << features.dimensionBits) {
      throw new ContinuumError(
        'CONTINUUM_INVALID_OPTIONS',
        'Scanner model weights do not match its feature size',
      )
    }
    this.hasher = new FeatureHasher(features)
    this.weights = weights
    this.bias = bias
  }

  /** Reads the training script's JSON; throws CONTINUUM_INVALID_OPTIONS when it is malformed. */
  static fromJSON(json: InjectionModelJSON): InjectionModel {
    if (json === null || typeof json !== 'object' || json.format !== 1) {
      throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'Scanner model: unknown format')
    }
    const { features } = json
    const validBits = Number.isInteger(features?.dimensionBits) && features.dimensionBits >= 8
    if (!validBits || features.dimensionBits > 22 || !Number.isFinite(json.bias) || !(json.scale > 0)) {
      throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'Scanner model: invalid header')
    }
    const bytes = Buffer.from(json.weights, 'base64')
    const weights = new Float32Array(bytes.length)
    for (let index = 0; index < bytes.length; index++) {
      const byte = bytes[index]!
      weights[index] = (byte > 127 ? byte - 256 : byte) * json.scale
    }
    return new InjectionModel(features, weights, json.bias)
  }

  /** The feature settings the weights were trained with. */
  get features(): FeatureConfig {
    return this.hasher.config
  }

  /** The injection probability of a text already passed through `normalizeText`. */
  probability(normalized: string): number {
    const logit = this.hasher.dot(normalized, this.weights) + this.bias
    return 1 / (1 + Math.exp(-logit))
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
