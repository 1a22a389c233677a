/**
 * Fits a complete scanner model on a set of rows, choosing its hyper-parameters honestly: by
 * cross-validation over the SOURCE GROUPS present in those rows (never by looking at rows outside
 * them). For each candidate classifier L2, a grouped k-fold gives every row a classifier score
 * from a model that never saw its group; the combiner is fitted on that out-of-fold evidence and
 * its bias calibrated to the false-positive budget; the candidate with the best out-of-fold
 * recall wins. The final classifier is then trained on all the rows with that L2, and ships with
 * the combiner fitted on its out-of-fold evidence.
 */
import { EVIDENCE_LAYOUT, setClassifierEvidence } from '../src/scanner/evidence'
import type { FeatureConfig } from '../src/scanner/features'
import type { InjectionModelJSON } from '../src/scanner/model'
import { calibrateBias, combinedMargin, type FalsePositiveBudget, fitCombiner } from './scanner-combiner'
import type { CorpusRow, CorpusSettings } from './scanner-corpus'
import {
  type ClassifierSettings,
  classifierLogits,
  trainClassifier,
  trainClassifiers,
} from './scanner-training'

/** Everything a fit needs besides the rows; the defaults are what the shipped model uses. */
export interface FitSettings {
  readonly corpus: CorpusSettings
  readonly classifier: Omit<ClassifierSettings, 'l2'>
  /** Candidate classifier L2 strengths, chosen among by inner grouped cross-validation. */
  readonly l2Grid: readonly number[]
  readonly innerFolds: number
  readonly combinerL2: number
  readonly budget: FalsePositiveBudget
}

export const DEFAULT_FIT: FitSettings = {
  corpus: {
    features: { dimensionBits: 18, charGrams: [3, 5], wordBigrams: true } satisfies FeatureConfig,
    maxChunk: 256,
    trainingChunks: 24,
  },
  classifier: { epochs: 8, learningRate: 0.5, seed: 20240611 },
  l2Grid: [1e-5, 1e-4],
  innerFolds: 4,
  combinerL2: 1e-3,
  budget: { threshold: 0.4, pooled: 0.015, perGroup: 0.04, minGroupRows: 20 },
}

/** The rows a fit may use: corpus indices with their labels and source groups. */
export interface FitRows {
  readonly corpus: readonly CorpusRow[]
  /** Group of every corpus row. */
  readonly groups: Int32Array
  /** The corpus rows this fit may train and validate on. */
  readonly indices: readonly number[]
}

/** What inner cross-validation measured for one candidate. */
export interface CandidateResult {
  readonly l2: number
  /** Out-of-fold recall at the calibrated bias (the selection criterion). */
  readonly recall: number
  /** Out-of-fold share of benign rows flagged at that bias. */
  readonly falsePositiveRate: number
}

/** A fitted model and the record of how its hyper-parameters were chosen. */
export interface FitResult {
  readonly json: InjectionModelJSON
  readonly candidates: readonly CandidateResult[]
  readonly l2: number
}

/**
 * Splits groups into `folds` folds of similar row counts: largest group first, each into the
 * fold with the fewest rows so far (lowest fold on ties). Deterministic.
 */
export function groupFolds(groupOfRow: readonly number[], folds: number): Map<number, number> {
  const sizes = new Map<number, number>()
  for (const group of groupOfRow) sizes.set(group, (sizes.get(group) ?? 0) + 1)
  const ordered = [...sizes.entries()].sort((left, right) => right[1] - left[1] || left[0] - right[0])
  const load = new Array<number>(folds).fill(0)
  const foldOf = new Map<number, number>()
  for (const [group, size] of ordered) {
    const fold = load.indexOf(Math.min(...load))
    foldOf.set(group, fold)
    load[fold]! += size
  }
  return foldOf
}

/** Full evidence vectors (static slots plus the classifier's) of `indices` under `model`. */
function evidenceUnder(
  corpus: readonly CorpusRow[],
  indices: readonly number[],
  model: ReturnType<typeof trainClassifier>,
): Float64Array[] {
  return indices.map((index) => {
    const row = corpus[index]!
    const evidence = Float64Array.from(row.evidence)
    const [document, best] = classifierLogits(row, model)
    setClassifierEvidence(evidence, document, best)
    return evidence
  })
}

/**
 * Out-of-fold evidence of every row in `rows.indices` for each L2 of `l2s` (grouped k-fold): one
 * array per L2. The candidates of a fold train together (trainClassifiers), each as it would
 * alone.
 */
export function outOfFoldEvidence(
  rows: FitRows,
  settings: FitSettings,
  l2s: readonly number[],
): Float64Array[][] {
  const { corpus, groups, indices } = rows
  const dimension = 1 << settings.corpus.features.dimensionBits
  const foldOf = groupFolds(
    indices.map((index) => groups[index]!),
    settings.innerFolds,
  )
  const evidence = l2s.map(() => new Array<Float64Array>(indices.length))
  for (let fold = 0; fold < settings.innerFolds; fold++) {
    const inFold = indices.filter((index) => foldOf.get(groups[index]!) === fold)
    if (inFold.length === 0) continue
    const training = indices.filter((index) => foldOf.get(groups[index]!) !== fold)
    const models = trainClassifiers(corpus, training, dimension, settings.classifier, l2s)
    models.forEach((model, candidate) => {
      const scored = evidenceUnder(corpus, inFold, model)
      let next = 0
      indices.forEach((index, position) => {
        if (foldOf.get(groups[index]!) === fold) evidence[candidate]![position] = scored[next++]!
      })
    })
  }
  return evidence
}

/** The combiner for out-of-fold evidence, with its bias calibrated; and how it does there. */
export function combinerFor(
  evidence: readonly Float64Array[],
  labels: readonly number[],
  groups: readonly number[],
  settings: FitSettings,
): { weights: number[]; bias: number; recall: number; falsePositiveRate: number } {
  const fit = fitCombiner(evidence, labels, settings.combinerL2)
  const margins = evidence.map((vector) => combinedMargin(fit, vector))
  const bias = calibrateBias(margins, labels, groups, settings.budget)
  const cut = Math.log(settings.budget.threshold / (1 - settings.budget.threshold))
  let truePositives = 0
  let positives = 0
  let falsePositives = 0
  margins.forEach((margin, row) => {
    const flagged = margin + bias >= cut
    if (labels[row] === 1) {
      positives++
      if (flagged) truePositives++
    } else if (flagged) falsePositives++
  })
  const negatives = labels.length - positives
  return {
    weights: fit.weights,
    bias,
    recall: positives === 0 ? 0 : truePositives / positives,
    falsePositiveRate: negatives === 0 ? 0 : falsePositives / negatives,
  }
}

/** Fits the model for `rows`, choosing L2 by inner grouped cross-validation over them. */
export function fitScanner(
  rows: FitRows,
  settings: FitSettings,
  sources: readonly string[],
  log: (line: string) => void = () => {},
): FitResult {
  const { corpus, groups, indices } = rows
  const labels = indices.map((index) => corpus[index]!.label)
  const rowGroups = indices.map((index) => groups[index]!)
  const candidates: CandidateResult[] = []
  let chosen: { l2: number; weights: number[]; bias: number; recall: number } | undefined
  const evidence = outOfFoldEvidence(rows, settings, settings.l2Grid)
  for (const [candidate, l2] of settings.l2Grid.entries()) {
    const combiner = combinerFor(evidence[candidate]!, labels, rowGroups, settings)
    candidates.push({ l2, recall: combiner.recall, falsePositiveRate: combiner.falsePositiveRate })
    log(
      `  l2 ${l2}: out-of-fold recall ${combiner.recall.toFixed(3)}, benign flagged ${combiner.falsePositiveRate.toFixed(4)}`,
    )
    if (chosen === undefined || combiner.recall > chosen.recall) chosen = { l2, ...combiner }
  }
  if (chosen === undefined) throw new Error('fitScanner: empty L2 grid')
  const dimension = 1 << settings.corpus.features.dimensionBits
  const model = trainClassifier(corpus, indices, dimension, { ...settings.classifier, l2: chosen.l2 })
  const trainedOn: Record<string, number> = {}
  for (const index of indices) trainedOn[sources[index]!] = (trainedOn[sources[index]!] ?? 0) + 1
  const json: InjectionModelJSON = {
    format: 2,
    features: settings.corpus.features,
    maxChunk: settings.corpus.maxChunk,
    bias: model.bias,
    scale: model.scale,
    weights: Buffer.from(model.bytes).toString('base64'),
    combiner: { inputs: EVIDENCE_LAYOUT, weights: chosen.weights, bias: chosen.bias },
    trainedOn,
    training: { ...settings.classifier, l2: chosen.l2, candidates },
  }
  return { json, candidates, l2: chosen.l2 }
}
