/**
 * Trains the shipped prompt-injection classifier and prints its evaluation:
 *   npx tsx scripts/train-scanner.ts [--data ../shared/data/prompt-injection/train.jsonl] [--no-write] [--skip-loso]
 * Writes src/scanner/model/weights.json (trained on every source except the held-out ones), then
 * prints the held-out figures and a leave-one-source-out table as Markdown for docs/scanner.md.
 */
import { existsSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { InjectionModel } from '../src/scanner/model'
import {
  classifierOnly,
  DEFAULT_TRAINING,
  FLAG_THRESHOLD,
  fullScanner,
  HELD_OUT_SOURCES,
  heldOutRows,
  leaveOneSourceOut,
  loadPrompts,
  type Metrics,
  metricsOf,
  renderHeldOutTable,
  trainingRows,
  trainModel,
} from './scanner-training'

const repoRoot = fileURLToPath(new URL('..', import.meta.url))
const argv = process.argv.slice(2)
const dataIndex = argv.indexOf('--data')
const dataPath = resolve(
  repoRoot,
  dataIndex >= 0 ? (argv[dataIndex + 1] ?? '') : '../shared/data/prompt-injection/train.jsonl',
)
if (!existsSync(dataPath)) {
  console.error(`train-scanner: data file not found: ${dataPath}`)
  process.exit(1)
}

const rows = loadPrompts(dataPath)
const started = performance.now()
const json = trainModel(trainingRows(rows), DEFAULT_TRAINING)
const trainSeconds = (performance.now() - started) / 1000
if (!argv.includes('--no-write')) {
  const target = resolve(repoRoot, 'src/scanner/model/weights.json')
  writeFileSync(target, `${JSON.stringify(json)}\n`)
  console.log(
    `wrote ${target} (${Math.round(JSON.stringify(json).length / 1024)} KB, trained in ${trainSeconds.toFixed(1)} s)`,
  )
}

const percent = (value: number): string => `${(value * 100).toFixed(1)}%`
const row = (name: string, metrics: Metrics, extra: string): string =>
  `| ${name} | ${metrics.precision.toFixed(3)} | ${metrics.recall.toFixed(3)} | ${metrics.f1.toFixed(3)} | ${extra} |`

const model = InjectionModel.fromJSON(json)
console.log(
  `\n### Held-out sources: ${HELD_OUT_SOURCES.join(' + ')} (${heldOutRows(rows).length} rows), threshold ${FLAG_THRESHOLD}\n`,
)
console.log(renderHeldOutTable(rows, model))

if (!argv.includes('--skip-loso')) {
  console.log(`\n### Leave-one-source-out (each source scored by a model trained on the other four)\n`)
  console.log('| held-out source | rows | injections | flagged by classifier | flagged by scanner |')
  console.log('|---|---|---|---|---|')
  const results = leaveOneSourceOut(rows, { classifier: classifierOnly, scanner: fullScanner })
  const pooled: Record<string, { labels: number[]; flagged: boolean[] }> = {}
  for (const name of ['classifier', 'scanner']) pooled[name] = { labels: [], flagged: [] }
  results.classifier!.forEach((fold, index) => {
    const scannerFold = results.scanner![index]!
    const share = (scores: number[]): string =>
      percent(scores.filter((score) => score >= FLAG_THRESHOLD).length / scores.length)
    const injections = fold.labels.filter((label) => label === 1).length
    console.log(
      `| ${fold.source} | ${fold.labels.length} | ${injections} | ${share(fold.scores)} | ${share(scannerFold.scores)} |`,
    )
    for (const [name, scores] of [
      ['classifier', fold.scores],
      ['scanner', scannerFold.scores],
    ] as const) {
      pooled[name]!.labels.push(...fold.labels)
      pooled[name]!.flagged.push(...scores.map((score) => score >= FLAG_THRESHOLD))
    }
  })
  console.log('\n| pooled out-of-source | precision | recall | F1 | benign flagged |')
  console.log('|---|---|---|---|---|')
  for (const name of ['classifier', 'scanner']) {
    const metrics = metricsOf(pooled[name]!.labels, pooled[name]!.flagged)
    console.log(row(name, metrics, percent(metrics.falsePositiveRate)))
  }
}
