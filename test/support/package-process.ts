/**
 * How a test starts the package in a child process: the CLI (`continuum-proxy ...`), the
 * README's snippets and the multi-instance suite's proxy instances. On the built package when dist/ is newer than every source it is built from,
 * as `npm test` leaves it (it builds before vitest runs), which is also what users run; otherwise
 * on the sources through tsx, so a test run straight after an edit never tests stale output.
 *
 * Why not always tsx: a child on the sources transpiles and resolves a hundred modules through
 * tsx's loader first, about half a second of CPU, and the operator tests start some thirty
 * children. On the built package the same start takes about a tenth of a second.
 */
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))

/** What dist/ is built from: every file under these, and these files. */
const SOURCE_FOLDERS = ['src', 'adapters', 'middleware', 'entries', 'cli']
const SOURCE_FILES = ['package.json', 'tsup.config.ts', 'tsconfig.json']
/** Built files every child needs; the build writes them all in one run. */
const BUILT_FILES = ['dist/cli.js', 'dist/index.js', 'dist/express.js', 'dist/koa.js', 'dist/fastify.js']

function newestUnder(folder: string): number {
  let newest = 0
  for (const entry of readdirSync(folder, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue
    newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs)
  }
  return newest
}

let fresh: boolean | undefined

/** Whether dist/ was built after the last change to its sources (checked once per test file). */
export function builtPackageIsFresh(): boolean {
  if (fresh !== undefined) return fresh
  if (
    process.env.CONTINUUM_TEST_SOURCES === '1' ||
    !BUILT_FILES.every((file) => existsSync(join(root, file)))
  ) {
    fresh = false
    return fresh
  }
  const built = Math.min(...BUILT_FILES.map((file) => statSync(join(root, file)).mtimeMs))
  const sources = Math.max(
    ...SOURCE_FOLDERS.map((folder) => newestUnder(join(root, folder))),
    ...SOURCE_FILES.map((file) => statSync(join(root, file)).mtimeMs),
  )
  fresh = built > sources
  return fresh
}

/** `continuum-proxy <args>` as a command and its arguments: dist/cli.js, or cli/index.ts through tsx. */
export function cliCommand(...args: string[]): [string, string[]] {
  return builtPackageIsFresh()
    ? [process.execPath, [join(root, 'dist/cli.js'), ...args]]
    : [process.execPath, ['--import', 'tsx', join(root, 'cli/index.ts'), ...args]]
}

/**
 * A TypeScript file run as `tsx <file>` does (tsx's loader in one process: the tsx command starts
 * exactly that as its child). Where `continuum-proxy` resolves is up to the tsconfig tsx finds:
 * the repository's maps it to the sources; `snippetTsconfig()` beside the file leaves it to the
 * package's exports, that is dist/.
 */
export function tsxCommand(file: string, ...args: string[]): [string, string[]] {
  return [process.execPath, ['--import', 'tsx', file, ...args]]
}

/**
 * The tsconfig.json for a folder of snippets inside the repository: none of the root's `paths`
 * when the built package is fresh, so `continuum-proxy/...` resolves through the package's
 * exports to dist/, as it does in a project that installed the package; undefined otherwise (the
 * root tsconfig then applies, mapping it to the sources).
 */
export function snippetTsconfig(): string | undefined {
  if (!builtPackageIsFresh()) return undefined
  return `${JSON.stringify({ compilerOptions: { target: 'ES2023', module: 'preserve', moduleResolution: 'bundler', strict: true } }, null, 2)}\n`
}

/**
 * Environment for a `node --import tsx` child running a file of this repository that imports
 * `continuum-proxy/...`: when the built package is fresh, TSX_TSCONFIG_PATH names a tsconfig
 * (written into `folder`) without the root's `paths`, so those imports resolve through the
 * package's exports to dist/, as in a project that installed it, and the child loads the built
 * files instead of transpiling the sources; otherwise nothing (the root tsconfig applies, mapping
 * them to the sources).
 */
export function builtPackageEnvironment(folder: string): Record<string, string> {
  const tsconfig = snippetTsconfig()
  if (tsconfig === undefined) return {}
  const path = join(folder, 'tsconfig.json')
  writeFileSync(path, tsconfig)
  return { TSX_TSCONFIG_PATH: path }
}

/**
 * How a child runs a TypeScript file of this repository that imports `continuum-proxy/...` (a
 * harness, such as the multi-instance suite's proxy instance): its `execArgv`.
 * When the built package is fresh, on Node's own type stripping, so those imports resolve through
 * the package's exports to dist/ and nothing else is loaded: under tsx's loader the same child
 * spends about another 0.6 s of CPU passing dist/'s modules through it. Otherwise through tsx,
 * the root tsconfig mapping them to the sources.
 */
export function repositoryScriptExecArgv(): string[] {
  if (!builtPackageIsFresh()) return ['--import', 'tsx']
  // Stripping is on by default from Node 22.18; the flag turns it on from 22.12 (the engines range).
  return ['--experimental-strip-types', '--disable-warning=ExperimentalWarning']
}
