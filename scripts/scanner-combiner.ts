/**
 * Fits the combiner (src/scanner/combiner.ts) on out-of-fold evidence: weighted logistic
 * regression with L2, every weight held non-negative, solved by cyclic coordinate Newton steps
 * (a fixed number of sweeps, so the result is deterministic). Then its bias is set so that the
 * scanner's default threshold flags at most a target share of the benign rows, pooled and in
 * every benign source group: the false-positive budget is the constraint, recall is what is left.
 */

/** Combiner weights (one per evidence slot) and bias. */
export interface CombinerFit {
  readonly weights: number[]
  readonly bias: number
}

/** The false-positive budget the bias is calibrated to, on out-of-fold scores. */
export interface FalsePositiveBudget {
  /** Score at or above which a row counts as flagged (the scanner's default threshold). */
  readonly threshold: number
  /** Largest share of all benign rows flagged. */
  readonly pooled: number
  /** Largest share flagged in any one source group with at least `minGroupRows` benign rows. */
  readonly perGroup: number
  readonly minGroupRows: number
}

const sigmoid = (value: number): number => 1 / (1 + Math.exp(-value))
/** Largest change of one weight in one Newton step: keeps early steps on flat data sane. */
const MAX_STEP = 4

/**
 * Fits weights ≥ 0 and a bias to `evidence` (one vector per row), minimising the weighted
 * logistic loss plus `l2 · Σ w²`. Classes are weighted to balance.
 */
export function fitCombiner(
  evidence: readonly Float64Array[],
  labels: readonly number[],
  l2: number,
  sweeps = 60,
): CombinerFit {
  const count = evidence.length
  const width = evidence[0]?.length ?? 0
  const positives = labels.filter((label) => label === 1).length
  const classWeight = [count / (2 * Math.max(1, count - positives)), count / (2 * Math.max(1, positives))]
  const sampleWeight = Float64Array.from(labels, (label) => classWeight[label]! / count)
  const weights = new Float64Array(width)
  let bias = 0
  const margins = new Float64Array(count)
  for (let sweep = 0; sweep < sweeps; sweep++) {
    for (let slot = -1; slot < width; slot++) {
      let gradient = slot < 0 ? 0 : l2 * weights[slot]!
      let curvature = slot < 0 ? 1e-9 : l2
      for (let row = 0; row < count; row++) {
        const value = slot < 0 ? 1 : evidence[row]![slot]!
        if (value === 0) continue
        const probability = sigmoid(margins[row]! + bias)
        gradient += sampleWeight[row]! * (probability - labels[row]!) * value
        curvature += sampleWeight[row]! * probability * (1 - probability) * value * value
      }
      const change = Math.max(-MAX_STEP, Math.min(MAX_STEP, -gradient / curvature))
      if (slot < 0) {
        bias += change
        continue
      }
      const updated = Math.max(0, weights[slot]! + change)
      const delta = updated - weights[slot]!
      if (delta === 0) continue
      weights[slot] = updated
      for (let row = 0; row < count; row++) margins[row] = margins[row]! + delta * evidence[row]![slot]!
    }
  }
  return { weights: [...weights], bias }
}

/** `weights · evidence` without the bias. */
export function combinedMargin(fit: CombinerFit, evidence: Float64Array): number {
  let sum = 0
  for (let slot = 0; slot < fit.weights.length; slot++) sum += fit.weights[slot]! * evidence[slot]!
  return sum
}

/**
 * The largest bias that keeps the budget on these rows: for each constraint, the benign margins
 * sorted high to low, the bias that flags as many as allowed and no more (midway between the first
 * excess margin and the next higher one), and the smallest of those biases.
 */
export function calibrateBias(
  margins: readonly number[],
  labels: readonly number[],
  groups: readonly number[],
  budget: FalsePositiveBudget,
): number {
  const cut = Math.log(budget.threshold / (1 - budget.threshold))
  const biasFor = (benignMargins: number[], share: number): number => {
    const sorted = [...benignMargins].sort((left, right) => right - left)
    const allowed = Math.floor(share * sorted.length)
    if (allowed >= sorted.length) return Number.POSITIVE_INFINITY
    // Flag only margins strictly above the first excess one (ties with it stay unflagged).
    const excess = sorted[allowed]!
    let above = excess + 2
    for (let index = allowed - 1; index >= 0; index--) {
      if (sorted[index]! > excess) {
        above = sorted[index]!
        break
      }
    }
    return cut - (excess + above) / 2
  }
  const benign = margins.filter((_, row) => labels[row] === 0)
  let bias = biasFor(benign, budget.pooled)
  const byGroup = new Map<number, number[]>()
  margins.forEach((margin, row) => {
    if (labels[row] !== 0) return
    const list = byGroup.get(groups[row]!)
    if (list === undefined) byGroup.set(groups[row]!, [margin])
    else list.push(margin)
  })
  for (const groupMargins of byGroup.values()) {
    if (groupMargins.length >= budget.minGroupRows)
      bias = Math.min(bias, biasFor(groupMargins, budget.perGroup))
  }
  return bias
}
