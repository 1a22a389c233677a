// Builds every public entry point as ESM and CJS with bundled type declarations.
import { defineConfig } from 'tsup'

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    express: 'middleware/express.ts',
    koa: 'middleware/koa.ts',
    fastify: 'middleware/fastify.ts',
    client: 'src/client/index.ts',
    fhe: 'src/fhe/index.ts',
    'fhe-worker': 'src/fhe/worker-entry.ts',
    cli: 'cli/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  shims: true,
  splitting: true,
  target: 'node22',
  platform: 'node',
  external: ['express', 'koa', 'fastify', '@opentelemetry/api', 'node-seal'],
})
