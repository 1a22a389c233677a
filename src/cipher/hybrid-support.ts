/**
 * Loads what a hybrid agreement key needs, once: ML-KEM-768 from `@noble/post-quantum` and the
 * keyring's hybrid code (hybrid-code.ts). `Keyring.create` and the key sources await it before
 * they add a hybrid key; the synchronous paths (a Keyring built from options, a schedule applied)
 * read what it loaded, and refuse a hybrid key before it has.
 */
import { loadMlKem768, type MlKem } from '../internal/post-quantum'

/** ML-KEM and the hybrid code, both loaded. */
export interface HybridSupport {
  readonly mlKem: MlKem
  readonly code: typeof import('./hybrid-code')
}

let loading: Promise<HybridSupport> | undefined
let loaded: HybridSupport | undefined

/** Loads ML-KEM and the hybrid code once; rejects with CONTINUUM_DEPENDENCY_MISSING without the package. */
export function loadHybridSupport(): Promise<HybridSupport> {
  loading ??= Promise.all([loadMlKem768(), import('./hybrid-code')]).then(
    ([mlKem, code]) => {
      loaded = { mlKem, code }
      return loaded
    },
    (error: unknown) => {
      loading = undefined
      throw error
    },
  )
  return loading
}

/** What {@link loadHybridSupport} loaded, for code that must stay synchronous; undefined before. */
export function loadedHybridSupport(): HybridSupport | undefined {
  return loaded
}
