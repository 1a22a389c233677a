// Checks that every public entry has types for every module system (run after `npm run build`):
// package.json's `exports` lists each entry of entries/sources.json with import and require
// conditions, types first, and `typesVersions` maps each subpath for TypeScript's node10
// resolution, which ignores `exports`; then @arethetypeswrong/cli packs the package and resolves
// every entry in node10, node16 from CommonJS, node16 from ESM and bundler modes.
import { execFileSync } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const read = (path) => JSON.parse(readFileSync(new URL(`../${path}`, import.meta.url), 'utf8'))
const manifest = read('package.json')
const sources = read('entries/sources.json')
const problems = []
const entrypoints = []
for (const subpath of Object.keys(sources)) {
  const name = subpath === '.' ? 'index' : subpath.slice(2)
  entrypoints.push(subpath)
  const expected = {
    // The client alone also ships one file bundled for browsers (tsup.config.ts).
    ...(name === 'client'
      ? { browser: { types: './dist/client.d.ts', default: './dist/client.browser.js' } }
      : {}),
    import: { types: `./dist/${name}.d.ts`, default: `./dist/${name}.js` },
    require: { types: `./dist/${name}.d.cts`, default: `./dist/${name}.cjs` },
  }
  if (JSON.stringify(manifest.exports?.[subpath]) !== JSON.stringify(expected)) {
    problems.push(`package.json exports["${subpath}"] should be ${JSON.stringify(expected)}`)
  }
  if (subpath !== '.') {
    const mapped = manifest.typesVersions?.['*']?.[name]
    if (JSON.stringify(mapped) !== JSON.stringify([`./dist/${name}.d.cts`])) {
      problems.push(`package.json typesVersions["*"]["${name}"] should be ["./dist/${name}.d.cts"]`)
    }
  }
}
for (const subpath of Object.keys(manifest.exports ?? {})) {
  if (!(subpath in sources) && subpath !== './package.json') {
    problems.push(`package.json exports["${subpath}"] is not in entries/sources.json`)
  }
}
for (const problem of problems) console.error(`check-types-exports: ${problem}`)
if (problems.length > 0) process.exit(1)

const MODES = ['node10', 'node16-cjs', 'node16-esm', 'bundler']
// The report goes to a file: attw exits before a large report piped to stdout is flushed.
const workspace = mkdtempSync(join(tmpdir(), 'continuum-attw-'))
const reportPath = join(workspace, 'attw.json')
const report = openSync(reportPath, 'w')
try {
  execFileSync(
    'npx',
    ['attw', '--pack', '.', '--profile', 'strict', '--format', 'json', '--entrypoints', ...entrypoints],
    { cwd: new URL('..', import.meta.url), stdio: ['ignore', report, 'inherit'] },
  )
} catch {
  // attw exits 1 when it finds problems; its report lists them.
} finally {
  closeSync(report)
}
const output = readFileSync(reportPath, 'utf8')
rmSync(workspace, { recursive: true, force: true })
const { analysis } = JSON.parse(output)
const found = analysis?.problems ?? []
if (analysis?.types?.kind !== 'included') {
  console.error('check-types-exports: the packed package has no type declarations; run npm run build first')
  process.exit(1)
}
for (const subpath of entrypoints) {
  const entry = analysis.entrypoints[subpath]
  const cells = MODES.map((mode) => {
    const resolution = entry?.resolutions?.[mode]?.resolution
    const file = resolution?.fileName?.replace(/^.*\/dist\//, '') ?? 'unresolved'
    if (resolution === undefined || !resolution.isTypeScript)
      problems.push(`${subpath} has no types in ${mode}`)
    return `${mode} ${file}`
  })
  console.log(`  ${subpath.padEnd(16)} ${cells.join('  ')}`)
}
for (const problem of found) {
  problems.push(
    `${problem.kind}${problem.entrypoint ? ` in ${problem.entrypoint}` : ''}${problem.resolutionKind ? ` (${problem.resolutionKind})` : ''}`,
  )
}
for (const problem of problems) console.error(`check-types-exports: ${problem}`)
if (problems.length > 0) process.exit(1)
console.log(
  `check-types-exports: ${entrypoints.length} entries resolve in node10, node16 (CJS and ESM) and bundler`,
)
