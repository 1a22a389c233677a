// Test runner settings: Node environment, real sockets, generous timeouts for the 2-core CI machine.
// `continuum-proxy/...` resolves to the sources of each entry point, so tests and examples import
// the package by its public names.
//
// Speed on a small machine: most test time is spent waiting on sockets, so at least two files run
// at once (vitest's default is one fewer worker than cores: one, on two). And loading the package's
// sources costs a file about half a second, so the files that keep no state between files share
// their workers' module cache (`isolate: false`). A file stays isolated when it mocks modules,
// fakes timers, sets OpenTelemetry globals, measures its process's memory, spawns processes or
// runs real Redis servers; put a new file of that kind under one of ISOLATED.
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'
import sources from './entries/sources.json' with { type: 'json' }

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
  'test/telemetry/**',
  'test/fhe/**',
  // The refit holds the whole featurised corpus (some hundreds of MB) while it runs.
  'test/scanner/shipped-model.test.ts',
  'test/redis/**',
  'test/examples/**',
  'test/cli/**',
  'test/audit/cli.test.ts',
  'test/hardening/privacy-accounting.test.ts',
  'test/hardening/fhe-key-binding.test.ts',
  'test/conformance/forwarding.test.ts',
]

export default defineConfig({
  resolve: { alias },
  test: {
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    maxWorkers: Math.max(2, availableParallelism() - 1),
    reporters: ['default'],
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
