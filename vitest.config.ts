// Test runner settings: Node environment, real sockets, generous timeouts for the 2-core CI machine.
// `continuum-proxy/...` resolves to the sources of each entry point, so tests and examples import
// the package by its public names.
//
// Speed on a small machine: much test time is spent waiting on sockets, child processes and
// Redis, so one more file runs at once than there are cores (vitest's default is one fewer: one,
// on two). On the 2-core machine, in three pairs of runs one after the other, three workers took
// 100-138 s where two took 142-152 s. And loading the package's
// sources costs a file about half a second (and the FHE library's WebAssembly more), so the files
// that keep no state between files share their workers' module cache (`isolate: false`), those
// that spawn processes or run real Redis servers included: they close what they start, and those
// that set an OpenTelemetry global (a context manager, a propagator) disable it again in their
// `afterAll` or `finally`. A file stays isolated when it mocks or resets modules, fakes timers, leaves
// an OpenTelemetry global set or measures its process's memory; put a new file of that kind under
// one of ISOLATED. (The eleven telemetry files that share a worker cost 10.7 CPU-s run together, 19.7
// each in its own.) The files start longest
// first, by vitest's recorded durations or, on a fresh clone, by estimates
// (test/support/longest-first-sequencer.ts).
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'
import sources from './entries/sources.json' with { type: 'json' }
import { LongestFirstSequencer } from './test/support/longest-first-sequencer'

const root = fileURLToPath(new URL('.', import.meta.url))
const alias = Object.entries(sources).map(([subpath, source]) => ({
  find: subpath === '.' ? /^continuum-proxy$/ : new RegExp(`^continuum-proxy/${subpath.slice(2)}$`),
  replacement: `${root}${source}`,
}))

/** Files that run in a fresh worker each (see above). */
const ISOLATED = [
  'test/router/health.test.ts',
  'test/router/post-quantum-missing.test.ts',
  'test/router/resilience.test.ts',
  'test/router/streaming.test.ts',
  // Measures the heap over 10,000 streamed requests.
  'test/telemetry/stream-span-soak.test.ts',
  // Measures the WebAssembly heap over many operations.
  'test/fhe/key-manager-evaluator.test.ts',
  // The refit holds the whole featurised corpus (some hundreds of MB) while it runs.
  'test/scanner/shipped-model.test.ts',
  'test/conformance/forwarding.test.ts',
  // Reset the module registry to load the proxy from a fresh graph.
  'test/streams/lazy-stream-path.test.ts',
  'test/streams/first-stream-cut.test.ts',
  'test/streams/unasked-stream-cut.test.ts',
]

export default defineConfig({
  resolve: { alias },
  test: {
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    maxWorkers: availableParallelism() + 1,
    reporters: ['default'],
    sequence: { sequencer: LongestFirstSequencer },
    projects: [
      {
        extends: true,
        test: { name: 'shared', include: ['test/**/*.test.ts'], exclude: ISOLATED, isolate: false },
      },
      {
        extends: true,
        test: {
          name: 'isolated',
          include: ISOLATED.map((glob) => (glob.endsWith('/**') ? `${glob}/*.test.ts` : glob)),
        },
      },
    ],
  },
})
