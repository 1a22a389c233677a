// Test runner settings: Node environment, real sockets, generous timeouts for the 2-core CI machine.
// Most test time is spent waiting on sockets, not computing, so on a small machine it pays to run
// at least two files at once (vitest's own default is one fewer worker than cores: one, on two).
// `continuum-proxy/...` resolves to the sources of each entry point, so tests and examples import
// the package by its public names.
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'
import sources from './entries/sources.json' with { type: 'json' }

const root = fileURLToPath(new URL('.', import.meta.url))
const alias = Object.entries(sources).map(([subpath, source]) => ({
  find: subpath === '.' ? /^continuum-proxy$/ : new RegExp(`^continuum-proxy/${subpath.slice(2)}$`),
  replacement: `${root}${source}`,
}))

export default defineConfig({
  resolve: { alias },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    maxWorkers: Math.max(2, availableParallelism() - 1),
    reporters: ['default'],
  },
})
