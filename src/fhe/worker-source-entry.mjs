// The FHE worker thread when the package runs from its TypeScript sources (its own tests, a
// checkout): Node strips the types itself and one in-thread resolve hook adds the `.ts` and
// `/index.ts` that the sources' extensionless imports leave out. A worker then starts for about
// 0.2 CPU-s less than with `--import tsx`, whose loader runs on a thread of its own per worker.
// worker-pool-backend.ts picks this only where Node can (type stripping on, `registerHooks`). So
// the modules a worker loads must stay erasable TypeScript: no enums, namespaces or parameter
// properties, type-only imports marked `type` (verbatimModuleSyntax checks that one).
import { registerHooks } from 'node:module'

const missing = new Set(['ERR_MODULE_NOT_FOUND', 'ERR_UNSUPPORTED_DIR_IMPORT'])

registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context)
    } catch (error) {
      if (!specifier.startsWith('.') || !missing.has(error?.code)) throw error
      for (const suffix of ['.ts', '/index.ts']) {
        try {
          return nextResolve(`${specifier}${suffix}`, context)
        } catch {}
      }
      throw error
    }
  },
})

await import('./worker-entry.ts')
