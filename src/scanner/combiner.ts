/**
 * The combiner: a small logistic regression that turns the evidence about a text (the
 * classifier's document and best-chunk logits, which pattern families matched, the dense signals
 * of signals.ts) into the scan score. Its weights are learned offline from out-of-fold evidence,
 * that is from classifier scores on sources the classifier was not trained on, so they say how
 * far each kind of evidence can be trusted on text unlike the training data. Every weight is
 * non-negative: adding evidence (a matching pattern, a suspicious chunk) never lowers a score,
 * so an attacker cannot buy a lower score by adding a phrase.
 */
import { ContinuumError } from '../errors'

/** The JSON form of a combiner, stored in the model file. */
export interface CombinerJSON {
  /** Names of the evidence inputs, in the order of `weights` (see evidence.ts). */
  readonly inputs: readonly string[]
  readonly weights: readonly number[]
  readonly bias: number
}

const invalid = (message: string): ContinuumError =>
  new ContinuumError('CONTINUUM_INVALID_OPTIONS', `Scanner model combiner: ${message}`)

/** A loaded combiner, bound to the evidence layout of this version of the scanner. */
export class Combiner {
  readonly bias: number
  /** Weight of each evidence slot (slots the model does not name weigh 0). */
  readonly weights: Float64Array

  private constructor(weights: Float64Array, bias: number) {
    this.weights = weights
    this.bias = bias
  }

  /**
   * Maps the JSON's named weights onto `layout` (the evidence slots, by name); a name the layout
   * does not know means the model was trained by a different scanner version and is rejected.
   */
  static fromJSON(json: CombinerJSON, layout: readonly string[]): Combiner {
    if (json === null || typeof json !== 'object' || !Array.isArray(json.inputs)) throw invalid('no inputs')
    if (!Array.isArray(json.weights) || json.weights.length !== json.inputs.length) {
      throw invalid('inputs and weights differ in length')
    }
    if (!Number.isFinite(json.bias)) throw invalid('invalid bias')
    const weights = new Float64Array(layout.length)
    json.inputs.forEach((name, index) => {
      const slot = layout.indexOf(name)
      const weight = json.weights[index]
      if (slot < 0) throw invalid(`unknown input ${String(name)}`)
      if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) {
        throw invalid(`weight of ${name} must be a finite number >= 0`)
      }
      weights[slot] = weight
    })
    return new Combiner(weights, json.bias)
  }

  /** The combined logit of one evidence vector (laid out as `layout`). */
  logit(evidence: Float64Array): number {
    let sum = this.bias
    for (let slot = 0; slot < this.weights.length; slot++) sum += this.weights[slot]! * evidence[slot]!
    return sum
  }
}

/** The logistic function. */
export const sigmoid = (logit: number): number => 1 / (1 + Math.exp(-logit))
