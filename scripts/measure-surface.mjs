// Measures what a plain Express setup costs and how big an install is, on the built package
// (run `npm run build` first):
// `node scripts/measure-surface.mjs [--runs 5] [--json] [--skip-install] [--check]`
// (`npm run measure:surface`); with --check it exits 1 when a figure is over its target.
//
// The import is measured in a fresh child process: `module.registerHooks` records every module
// URL it loads while it imports `continuum-proxy/express` and builds `continuum({ upstream, keys })`,
// and the child reports the package's own code (bytes of dist files), the third-party packages
// loaded, the time and the RSS. The install is measured by `npm pack` and `npm install` of the
// tarball into a fresh temporary project with no optional peers, counting node_modules on disk.
// Targets: own code <= 100 KB and no prom-client, ajv-formats or scanner weights; install <= 15 MB.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const json = process.argv.includes('--json')
const skipInstall = process.argv.includes('--skip-install')
const enforce = process.argv.includes('--check')
const argument = (name) => {
  const index = process.argv.indexOf(name)
  return index === -1 ? undefined : process.argv[index + 1]
}

/** Packages and chunks a plain Express setup must never load. */
export const FORBIDDEN_PACKAGES = ['prom-client', 'ajv-formats']
/** A chunk holding the scanner weights is recognised by the start of the shipped weights string. */
const SCANNER_WEIGHTS_MARKER = JSON.parse(
  readFileSync(new URL('../src/scanner/model/weights.json', import.meta.url), 'utf8'),
).weights.slice(0, 64)

const CHILD = `
import { registerHooks } from 'node:module'
import { readFileSync } from 'node:fs'
const urls = new Set()
registerHooks({
  load(url, context, nextLoad) {
    urls.add(url)
    return nextLoad(url, context)
  },
})
const start = process.hrtime.bigint()
const { continuum } = await import('continuum-proxy/express')
const middleware = continuum({
  upstream: 'http://127.0.0.1:1',
  keys: { keys: [{ id: 'k1', key: Buffer.alloc(32, 1).toString('base64') }] },
})
const milliseconds = Number(process.hrtime.bigint() - start) / 1e6
await middleware.proxy.close()
const files = [...urls].filter((url) => url.startsWith('file:'))
process.stdout.write(JSON.stringify({ files, milliseconds, rss: process.memoryUsage().rss }))
`

const median = (values) => values.toSorted((a, b) => a - b)[Math.floor(values.length / 2)]

/**
 * Loads the express entry in `runs` fresh child processes and sums what it loaded; time and RSS
 * are the medians of the runs.
 */
export function measureImport(runs = 1) {
  const samples = Array.from({ length: runs }, () =>
    JSON.parse(
      execFileSync(process.execPath, ['--input-type=module', '-e', CHILD], { cwd: root, encoding: 'utf8' }),
    ),
  )
  const result = samples[0]
  const dist = new URL('dist/', `file://${root}`).href
  let ownBytes = 0
  const ownFiles = []
  const packages = new Set()
  let scannerWeights = false
  for (const url of result.files) {
    const path = fileURLToPath(url)
    if (url.startsWith(dist)) {
      const text = readFileSync(path, 'utf8')
      ownBytes += Buffer.byteLength(text)
      ownFiles.push({ file: url.slice(dist.length), bytes: Buffer.byteLength(text) })
      if (text.includes(SCANNER_WEIGHTS_MARKER)) scannerWeights = true
      continue
    }
    const match = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path)
    if (match !== null) packages.add(match[1])
  }
  return {
    ownBytes,
    ownFiles: ownFiles.sort((a, b) => b.bytes - a.bytes),
    packages: [...packages].sort(),
    scannerWeights,
    milliseconds: median(samples.map((sample) => sample.milliseconds)),
    rss: median(samples.map((sample) => sample.rss)),
    runs,
  }
}

/** Bytes on disk under a directory (file sizes, not blocks). */
function directoryBytes(directory) {
  let total = 0
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name)
    if (entry.isDirectory()) total += directoryBytes(path)
    else if (entry.isFile()) total += statSync(path).size
  }
  return total
}

/** Packs the package and installs the tarball alone into a fresh project. */
export function measureInstall() {
  const workspace = mkdtempSync(join(tmpdir(), 'continuum-install-'))
  try {
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--pack-destination', workspace], {
        cwd: root,
        encoding: 'utf8',
      }),
    )
    const tarball = join(workspace, packed[0].filename)
    const project = join(workspace, 'project')
    execFileSync('mkdir', [project])
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'measure', private: true }))
    execFileSync(
      'npm',
      ['install', '--omit=peer', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error', tarball],
      { cwd: project, encoding: 'utf8' },
    )
    const modules = join(project, 'node_modules')
    const installed = readdirSync(modules).flatMap((name) =>
      name.startsWith('@') ? readdirSync(join(modules, name)).map((scoped) => `${name}/${scoped}`) : [name],
    )
    return {
      tarballBytes: statSync(tarball).size,
      installBytes: directoryBytes(modules),
      packageBytes: directoryBytes(join(modules, 'continuum-proxy')),
      installed: installed.filter((name) => !name.startsWith('.')).sort(),
    }
  } finally {
    rmSync(workspace, { recursive: true, force: true })
  }
}

const kilobytes = (bytes) => `${(bytes / 1024).toFixed(1)} KB`
const megabytes = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`

if (import.meta.url === `file://${process.argv[1]}`) {
  const surface = measureImport(Number(argument('--runs') ?? 5))
  const install = skipInstall ? undefined : measureInstall()
  if (json) {
    console.log(JSON.stringify({ import: surface, install }, null, 2))
  } else {
    console.log("continuum({ upstream, keys }) from 'continuum-proxy/express':")
    console.log(`  own code       ${kilobytes(surface.ownBytes)} in ${surface.ownFiles.length} files`)
    for (const file of surface.ownFiles) console.log(`    ${kilobytes(file.bytes).padStart(9)}  ${file.file}`)
    console.log(
      `  time           ${surface.milliseconds.toFixed(0)} ms (import and construction, median of ${surface.runs})`,
    )
    console.log(`  rss            ${megabytes(surface.rss)} (median)`)
    console.log(`  packages       ${surface.packages.join(', ') || '(none)'}`)
    console.log(`  scanner weights ${surface.scannerWeights ? 'LOADED' : 'not loaded'}`)
    if (install !== undefined) {
      console.log('install of the tarball alone (no peers):')
      console.log(`  tarball        ${megabytes(install.tarballBytes)}`)
      console.log(
        `  node_modules   ${megabytes(install.installBytes)} (package itself ${megabytes(install.packageBytes)})`,
      )
      console.log(`  packages       ${install.installed.join(', ')}`)
    }
  }
  const forbidden = surface.packages.filter((name) => FORBIDDEN_PACKAGES.includes(name))
  const failures = [
    surface.ownBytes > 100 * 1024 && `own code ${kilobytes(surface.ownBytes)} > 100 KB`,
    forbidden.length > 0 && `loads ${forbidden.join(', ')}`,
    surface.scannerWeights && 'loads the scanner weights',
    install !== undefined &&
      install.installBytes > 15 * 1024 * 1024 &&
      `install ${megabytes(install.installBytes)} > 15 MB`,
  ].filter(Boolean)
  for (const failure of failures) console.error(`measure-surface: over target: ${failure}`)
  if (enforce && failures.length > 0) process.exitCode = 1
}
