/**
 * Trains the shipped prompt-injection model and prints its evaluation as Markdown for
 * docs/scanner.md:
 *   npx tsx scripts/train-scanner.ts [--data ../shared/data/prompt-injection] [--no-write] [--skip-losgo]
 *     [--save-scores held-out.json | --load-scores held-out.json]
 * Writes src/scanner/model/weights.json (fitted on every row of both data files), then prints the
 * hyper-parameter selection, the fit on the training rows, and the leave-one-source-group-out
 * tables (per group, per source, pooled, per language). The LOSGO run fits one complete model,
 * with its own inner cross-validation, per held-out group: expect about ten minutes on 2 cores.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  type HeldOutScores,
  leaveOneGroupOut,
  parseScores,
  renderGroupTable,
  renderLanguageTable,
  renderPooledTable,
  renderSelectionTable,
  renderSourceTable,
  renderTrainingFitTable,
  serializeScores,
} from './scanner-evaluation'
import { DEFAULT_FIT } from './scanner-fit'
import { fitShippedModel, prepareData, weightsFile } from './scanner-shipped'

const repoRoot = fileURLToPath(new URL('..', import.meta.url))
const argv = process.argv.slice(2)
const dataIndex = argv.indexOf('--data')
const folder = resolve(
  repoRoot,
  dataIndex >= 0 ? (argv[dataIndex + 1] ?? '') : '../shared/data/prompt-injection',
)
if (!existsSync(resolve(folder, 'train.jsonl'))) {
  console.error(`train-scanner: no train.jsonl in ${folder}`)
  process.exit(1)
}
const log = (line: string): void => console.error(line)

const started = performance.now()
const data = prepareData(folder)
const fit = fitShippedModel(data, DEFAULT_FIT, log)
const seconds = (performance.now() - started) / 1000
const file = weightsFile(fit.json)
if (!argv.includes('--no-write')) {
  const target = resolve(repoRoot, 'src/scanner/model/weights.json')
  writeFileSync(target, file)
  log(
    `wrote src/scanner/model/weights.json (${Math.round(file.length / 1024)} KB, fitted in ${seconds.toFixed(0)} s)`,
  )
}

console.log('### Source groups\n')
console.log('| group | sources |\n|---|---|')
for (const group of data.groups) console.log(`| ${group.name} | ${group.sources.join(', ')} |`)
console.log('\n### Hyper-parameters of the shipped model (grouped cross-validation over all groups)\n')
console.log(renderSelectionTable(fit.json))
console.log('\n### The shipped model on its training rows (not a generalisation figure)\n')
console.log(renderTrainingFitTable(data.rows, fit.json))

if (!argv.includes('--skip-losgo')) {
  // --load-scores renders the tables of a saved run again instead of refitting every fold.
  const loadIndex = argv.indexOf('--load-scores')
  const saveIndex = argv.indexOf('--save-scores')
  const scores: HeldOutScores =
    loadIndex >= 0
      ? parseScores(readFileSync(argv[loadIndex + 1] ?? '', 'utf8'))
      : leaveOneGroupOut(data.rows, data.corpus, data.groups, data.groupOf, DEFAULT_FIT, log)
  if (saveIndex >= 0) writeFileSync(argv[saveIndex + 1] ?? 'held-out.json', serializeScores(scores))
  console.log('\n### Leave-one-source-group-out, per group\n')
  console.log(renderGroupTable(data.rows, data.groups, data.groupOf, scores))
  console.log('\n### Leave-one-source-group-out, pooled\n')
  console.log(renderPooledTable(data.rows, data.groups, data.groupOf, scores))
  console.log('\n### Leave-one-source-group-out, per source\n')
  console.log(renderSourceTable(data.rows, scores))
  console.log('\n### Leave-one-source-group-out, per language\n')
  console.log(renderLanguageTable(data.rows, scores.scanner))
  console.log("\nL2 chosen by each fold's inner cross-validation:")
  console.log(data.groups.map((group, index) => `${group.name}: ${scores.chosenL2[index]}`).join('; '))
}
