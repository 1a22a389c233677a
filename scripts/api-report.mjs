// Checks (or with --local, updates) the API report of every public entry point in etc/.
// api-extractor handles one entry per run, so the shared api-extractor.json is reused per entry.
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor'

const root = fileURLToPath(new URL('..', import.meta.url))
const local = process.argv.includes('--local')
const sources = JSON.parse(readFileSync(new URL('../entries/sources.json', import.meta.url), 'utf8'))
const entries = Object.keys(sources).map((subpath) => (subpath === '.' ? 'index' : subpath.slice(2)))
let failed = 0

for (const entry of entries) {
  const base = ExtractorConfig.loadFile(`${root}api-extractor.json`)
  const configObject = {
    ...base,
    mainEntryPointFilePath: `${root}dist/${entry}.d.ts`,
    apiReport: { ...base.apiReport, reportFileName: `${entry}.api.md` },
  }
  if (!existsSync(configObject.mainEntryPointFilePath)) {
    console.error(`api-report: dist/${entry}.d.ts is missing; run tsup first`)
    process.exit(1)
  }
  const config = ExtractorConfig.prepare({
    configObject,
    configObjectFullPath: `${root}api-extractor.json`,
    packageJsonFullPath: `${root}package.json`,
  })
  const result = Extractor.invoke(config, {
    localBuild: local,
    showVerboseMessages: false,
    messageCallback: (message) => {
      if (message.logLevel === 'warning') message.handled = true
    },
  })
  if (!result.succeeded) {
    failed++
    console.error(`api-report: ${entry} API changed; review etc/${entry}.api.md and run "npm run api:update"`)
  } else if (result.apiReportChanged) {
    console.log(`api-report: updated etc/${entry}.api.md`)
  }
}
if (failed > 0) process.exit(1)
console.log(`api-report: ${entries.length} entry points checked`)
