/**
 * `npm run bench [name-filter]`: runs every bench/*.bench.ts suite in turn. Each suite's default
 * export prints its own Markdown table of medians and percentiles. Benchmarks never run in tests.
 */
import { readdirSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'

const filter = process.argv[2]
const folder = fileURLToPath(new URL('.', import.meta.url))
const suites = readdirSync(folder)
  .filter((file) => file.endsWith('.bench.ts'))
  .filter((file) => filter === undefined || file.includes(filter))
  .sort()

console.log(`# continuum-proxy benchmarks\n\nnode ${process.version}, ${process.platform}/${process.arch}\n`)
for (const file of suites) {
  const suite = (await import(pathToFileURL(`${folder}${file}`).href)) as { default: () => Promise<void> }
  console.log(`\n## ${file.replace('.bench.ts', '')}\n`)
  await suite.default()
}
