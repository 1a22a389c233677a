/**
 * Starts a bench server (support/bench-servers.ts) in its own process, running what users run:
 * the built package (`dist/`, through `continuum-proxy/<framework>`), on plain Node with its types
 * stripped. Running the sources through tsx instead measured tsx too: its `keepNames` transform
 * calls `__name()` on every function expression the request path creates, some 25 µs a request
 * on this machine, which the built package does not have. `BENCH_SOURCES=1` still runs the
 * sources (to bench a change without building). A missing or stale build is rebuilt first.
 */
import { type ChildProcess, execFileSync, fork } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))
const serverScript = fileURLToPath(new URL('./bench-servers.ts', import.meta.url))

/** Whether the servers run the sources through tsx (`BENCH_SOURCES=1`) rather than the build. */
export const runsSources = process.env.BENCH_SOURCES === '1'

/** The newest modification time of a file under `directory`. */
function newest(directory: string): number {
  let latest = 0
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name)
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs)
  }
  return latest
}

let checked = false

/** Builds the package when dist/ is missing or older than any source it is built from. */
function ensureBuilt(): void {
  if (checked || runsSources) return
  checked = true
  let built = 0
  try {
    built = statSync(join(root, 'dist/express.js')).mtimeMs
  } catch {}
  const sources = Math.max(
    ...['src', 'middleware', 'adapters', 'entries'].map((folder) => newest(join(root, folder))),
  )
  if (built >= sources) return
  console.error('bench: dist/ is older than the sources; building it (tsup) first')
  execFileSync('npx', ['tsup', '--silent'], { cwd: root, stdio: 'inherit' })
}

/** Forks a bench server with `data` (see bench-servers.ts); `execArgv` adds Node flags. */
export function forkBenchServer(
  data: Record<string, unknown>,
  execArgv: readonly string[] = [],
): ChildProcess {
  ensureBuilt()
  return fork(serverScript, [JSON.stringify({ ...data, built: !runsSources })], {
    execArgv: [
      ...(runsSources
        ? ['--import', 'tsx']
        : ['--experimental-strip-types', '--disable-warning=ExperimentalWarning']),
      ...execArgv,
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
}
