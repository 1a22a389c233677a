/**
 * Leave-one-source-group-out (LOSGO) evaluation: each source group in turn is held out, a complete
 * model is fitted on the other groups (hyper-parameters chosen by inner cross-validation over
 * those groups only, see scanner-fit.ts), and the held-out rows are scored by the real
 * PromptScanner with that model. Every row is therefore scored by a model whose training and
 * tuning never saw its group. Also renders the tables of docs/scanner.md.
 */
import { type CombinerJSON, sigmoid } from '../src/scanner/combiner'
import { viewsOf } from '../src/scanner/evidence'
import { InjectionModel, type InjectionModelJSON } from '../src/scanner/model'
import { PromptScanner } from '../src/scanner/prompt-scanner'
import type { CorpusRow } from './scanner-corpus'
import type { LabelledPrompt, SourceGroup } from './scanner-data'
import { type FitSettings, fitScanner } from './scanner-fit'
import { guessLanguage } from './scanner-languages'

/** The scanner's default threshold: every figure counts a row flagged at score ≥ this. */
export const FLAG_THRESHOLD = 0.4

/** Scores of every row, each from the fold that held its group out. */
export interface HeldOutScores {
  /** The whole scanner's score. */
  readonly scanner: Float64Array
  /** The classifier alone: probability of its best view (document, chunk or payload). */
  readonly classifier: Float64Array
  /** The L2 each fold's inner cross-validation chose, by group index. */
  readonly chosenL2: number[]
}

/** A saved LOSGO run, so the tables can be rendered again without refitting. */
export const serializeScores = (scores: HeldOutScores): string =>
  JSON.stringify({
    scanner: [...scores.scanner],
    classifier: [...scores.classifier],
    chosenL2: scores.chosenL2,
  })

export function parseScores(text: string): HeldOutScores {
  const parsed = JSON.parse(text) as { scanner: number[]; classifier: number[]; chosenL2: number[] }
  return {
    scanner: Float64Array.from(parsed.scanner),
    classifier: Float64Array.from(parsed.classifier),
    chosenL2: parsed.chosenL2,
  }
}

/** The classifier-alone probability of a text under a format 2 model. */
export function classifierProbability(model: InjectionModel, text: string): number {
  const views = viewsOf(text, model.parts?.maxChunk ?? 256, true)
  const chunkLogits = new Float64Array(views.chunks.length)
  let best = model.chunkedLogit(views.chunks, chunkLogits)
  for (const logit of chunkLogits) best = Math.max(best, logit)
  for (const payload of views.payloads) best = Math.max(best, model.logit(payload.normalized))
  return sigmoid(best)
}

/** Runs the LOSGO protocol over every group. */
export function leaveOneGroupOut(
  rows: readonly LabelledPrompt[],
  corpus: readonly CorpusRow[],
  groups: readonly SourceGroup[],
  groupOf: Int32Array,
  settings: FitSettings,
  log: (line: string) => void = () => {},
): HeldOutScores {
  const scanner = new Float64Array(rows.length)
  const classifier = new Float64Array(rows.length)
  const chosenL2: number[] = []
  const sources = rows.map((row) => row.source)
  groups.forEach((group, groupIndex) => {
    log(`held out: ${group.name}`)
    const indices = rows.map((_, index) => index).filter((index) => groupOf[index] !== groupIndex)
    const fit = fitScanner({ corpus, groups: groupOf, indices }, settings, sources, log)
    chosenL2.push(fit.l2)
    const model = InjectionModel.fromJSON(fit.json)
    const scan = new PromptScanner({ model })
    rows.forEach((row, index) => {
      if (groupOf[index] !== groupIndex) return
      scanner[index] = scan.scan(row.text).score
      classifier[index] = classifierProbability(model, row.text)
    })
  })
  return { scanner, classifier, chosenL2 }
}

/** Confusion counts and the derived figures for the injection class. */
export interface Metrics {
  readonly truePositives: number
  readonly falsePositives: number
  readonly positives: number
  readonly negatives: number
  readonly precision: number
  readonly recall: number
  readonly f1: number
  /** Share of benign rows flagged. */
  readonly falsePositiveRate: number
}

export function metricsOf(labels: readonly number[], scores: ArrayLike<number>): Metrics {
  let truePositives = 0
  let falsePositives = 0
  let positives = 0
  labels.forEach((label, index) => {
    const flagged = scores[index]! >= FLAG_THRESHOLD
    if (label === 1) {
      positives++
      if (flagged) truePositives++
    } else if (flagged) falsePositives++
  })
  const negatives = labels.length - positives
  const flagged = truePositives + falsePositives
  const precision = flagged === 0 ? 0 : truePositives / flagged
  const recall = positives === 0 ? 0 : truePositives / positives
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall)
  const falsePositiveRate = negatives === 0 ? 0 : falsePositives / negatives
  return { truePositives, falsePositives, positives, negatives, precision, recall, f1, falsePositiveRate }
}

const percent = (value: number): string => `${(value * 100).toFixed(1)}%`
const share = (part: number, whole: number): string =>
  whole === 0 ? '-' : `${part} / ${whole} (${percent(part / whole)})`

/** Per-group table: injections caught and benign rows flagged, by the classifier and the scanner. */
export function renderGroupTable(
  rows: readonly LabelledPrompt[],
  groups: readonly SourceGroup[],
  groupOf: Int32Array,
  scores: HeldOutScores,
): string {
  const lines = [
    '| held-out group | precision | recall: injections caught | benign flagged | classifier alone: recall | classifier alone: benign flagged |',
    '|---|---|---|---|---|---|',
  ]
  groups.forEach((group, groupIndex) => {
    const members = rows.map((_, index) => index).filter((index) => groupOf[index] === groupIndex)
    const labels = members.map((index) => rows[index]!.label)
    const scanner = metricsOf(
      labels,
      members.map((index) => scores.scanner[index]!),
    )
    const classifier = metricsOf(
      labels,
      members.map((index) => scores.classifier[index]!),
    )
    const precision =
      scanner.truePositives + scanner.falsePositives === 0 ? '-' : scanner.precision.toFixed(3)
    lines.push(
      `| ${group.name} | ${precision} | ${share(scanner.truePositives, scanner.positives)} | ${share(scanner.falsePositives, scanner.negatives)} | ` +
        `${share(classifier.truePositives, classifier.positives)} | ${share(classifier.falsePositives, classifier.negatives)} |`,
    )
  })
  return lines.join('\n')
}

/** Per-source breakdown (held out with its group): share of the source's rows flagged. */
export function renderSourceTable(rows: readonly LabelledPrompt[], scores: HeldOutScores): string {
  const lines = [
    '| source | label | rows | flagged (scanner) | flagged (classifier alone) |',
    '|---|---|---|---|---|',
  ]
  const sources = [...new Set(rows.map((row) => row.source))]
  for (const source of sources) {
    const members = rows.map((_, index) => index).filter((index) => rows[index]!.source === source)
    const flagged = (values: Float64Array): string =>
      percent(members.filter((index) => values[index]! >= FLAG_THRESHOLD).length / members.length)
    lines.push(
      `| ${source} | ${rows[members[0]!]!.label} | ${members.length} | ${flagged(scores.scanner)} | ${flagged(scores.classifier)} |`,
    )
  }
  return lines.join('\n')
}

/** Pooled figures over every held-out prediction, plus the worst benign group. */
export function renderPooledTable(
  rows: readonly LabelledPrompt[],
  groups: readonly SourceGroup[],
  groupOf: Int32Array,
  scores: HeldOutScores,
): string {
  const labels = rows.map((row) => row.label)
  const lines = [
    '| pooled held-out predictions | precision | recall | F1 | benign flagged | worst benign group |',
    '|---|---|---|---|---|---|',
  ]
  for (const [name, values] of [
    ['scanner', scores.scanner],
    ['classifier alone', scores.classifier],
  ] as const) {
    const metrics = metricsOf(labels, values)
    let worst = { name: '-', rate: 0 }
    groups.forEach((group, groupIndex) => {
      const members = rows.map((_, index) => index).filter((index) => groupOf[index] === groupIndex)
      const benign = members.filter((index) => labels[index] === 0)
      if (benign.length === 0) return
      const rate = benign.filter((index) => values[index]! >= FLAG_THRESHOLD).length / benign.length
      if (rate > worst.rate) worst = { name: group.name, rate }
    })
    lines.push(
      `| ${name} | ${metrics.precision.toFixed(3)} | ${metrics.recall.toFixed(3)} | ${metrics.f1.toFixed(3)} | ` +
        `${share(metrics.falsePositives, metrics.negatives)} | ${worst.name} ${percent(worst.rate)} |`,
    )
  }
  return lines.join('\n')
}

/** Recall by language on the multilingual sources and their English counterparts. */
export function renderLanguageTable(rows: readonly LabelledPrompt[], scores: ArrayLike<number>): string {
  const LANGUAGE_SOURCES = [
    'cyberseceval/prompt_injection',
    'cyberseceval/prompt_injection_multilingual',
    'deepset-prompt-injections/train',
  ]
  const counts = new Map<string, { caught: number; total: number }>()
  rows.forEach((row, index) => {
    if (row.label !== 1 || !LANGUAGE_SOURCES.includes(row.source)) return
    const key = `${row.source.startsWith('deepset') ? 'deepset' : row.source} · ${guessLanguage(row.text)}`
    const entry = counts.get(key) ?? { caught: 0, total: 0 }
    entry.total++
    if (scores[index]! >= FLAG_THRESHOLD) entry.caught++
    counts.set(key, entry)
  })
  const lines = ['| source · language | injections caught (scanner, held out) |', '|---|---|']
  for (const [key, { caught, total }] of [...counts.entries()].sort())
    lines.push(`| ${key} | ${share(caught, total)} |`)
  return lines.join('\n')
}

/**
 * The shipped model scored on its own training rows (resubstitution, NOT a generalisation
 * figure), from every row's label and scanner score: cheap to recompute, so a test checks
 * docs/scanner.md against it (test/scanner/decision-fingerprint.test.ts, which scans those rows
 * with the shipped model anyway).
 */
export function trainingFitTable(labels: readonly number[], scores: ArrayLike<number>): string {
  const metrics = metricsOf(labels, scores)
  return [
    '| shipped model on its training rows | precision | recall | benign flagged |',
    '|---|---|---|---|',
    `| scanner | ${metrics.precision.toFixed(3)} | ${metrics.recall.toFixed(3)} | ${share(metrics.falsePositives, metrics.negatives)} |`,
  ].join('\n')
}

/** {@link trainingFitTable} of a fitted model: the real PromptScanner with it scans every row. */
export function renderTrainingFitTable(rows: readonly LabelledPrompt[], json: InjectionModelJSON): string {
  const scanner = new PromptScanner({ model: InjectionModel.fromJSON(json) })
  return trainingFitTable(
    rows.map((row) => row.label),
    rows.map((row) => scanner.scan(row.text).score),
  )
}

/** How the shipped model's hyper-parameters were chosen, from the record in its JSON. */
export function renderSelectionTable(json: InjectionModelJSON): string {
  const training = json.training as {
    l2: number
    candidates: { l2: number; recall: number; falsePositiveRate: number }[]
  }
  const combiner = json.combiner as CombinerJSON
  const lines = [
    '| classifier L2 | out-of-fold recall | out-of-fold benign flagged | chosen |',
    '|---|---|---|---|',
    ...training.candidates.map(
      (candidate) =>
        `| ${candidate.l2} | ${candidate.recall.toFixed(3)} | ${percent(candidate.falsePositiveRate)} | ${candidate.l2 === training.l2 ? 'yes' : ''} |`,
    ),
    '',
    '| combiner input | weight |',
    '|---|---|',
    ...combiner.inputs.map((name, index) => `| ${name} | ${combiner.weights[index]!.toFixed(3)} |`),
    `| (bias) | ${combiner.bias.toFixed(3)} |`,
  ]
  return lines.join('\n')
}
