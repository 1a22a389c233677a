/**
 * Loads what a hybrid agreement key needs, once: ML-KEM-768 from `@noble/post-quantum` and the
 * keyring's hybrid code (hybrid-code.ts). `Keyring.create` and the key sources await it before
 * they add a hybrid key; the synchronous paths (a Keyring built from options, a schedule applied)
 * read what it loaded (hybrid-loaded.ts), and refuse a hybrid key before it has. The keyring
 * imports this file only when it has a hybrid key to add, so a keyring without one does not load
 * the package lookup.
 */
import { loadMlKem768 } from '../internal/post-quantum'
import { type HybridSupport, supportLoaded } from './hybrid-loaded'

export { type HybridSupport, loadedHybridSupport } from './hybrid-loaded'

let loading: Promise<HybridSupport> | undefined

/** Loads ML-KEM and the hybrid code once; rejects with CONTINUUM_DEPENDENCY_MISSING without the package. */
export function loadHybridSupport(): Promise<HybridSupport> {
  loading ??= Promise.all([loadMlKem768(), import('./hybrid-code')]).then(
    ([mlKem, code]) => supportLoaded({ mlKem, code }),
    (error: unknown) => {
      loading = undefined
      throw error
    },
  )
  return loading
}
