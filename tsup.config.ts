// Builds every public entry point (entries/sources.json) as ESM and CJS with bundled type
// declarations, plus the CLI and the FHE worker, which are files rather than exports.
import { defineConfig } from 'tsup'
import sources from './entries/sources.json' with { type: 'json' }

/** `./router` → `router`, `.` → `index`. */
const entry: Record<string, string> = Object.fromEntries(
  Object.entries(sources).map(([subpath, source]) => [subpath === '.' ? 'index' : subpath.slice(2), source]),
)

export default defineConfig({
  entry: { ...entry, 'fhe-worker': 'src/fhe/worker-entry.ts', cli: 'cli/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  shims: true,
  splitting: true,
  target: 'node22',
  platform: 'node',
  external: ['express', 'koa', 'fastify', '@opentelemetry/api', 'node-seal', 'redis'],
})
