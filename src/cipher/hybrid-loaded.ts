/**
 * What `loadHybridSupport` (hybrid-support.ts) loaded, for the keyring's synchronous paths: apart
 * from the loader, so a keyring that never adds a hybrid key does not load the loader and the
 * optional-package lookup behind it.
 */
import type { MlKem } from '../internal/post-quantum'

/** ML-KEM and the hybrid code, both loaded. */
export interface HybridSupport {
  readonly mlKem: MlKem
  readonly code: typeof import('./hybrid-code')
}

let loaded: HybridSupport | undefined

/** Keeps what the loader loaded and answers it. */
export function supportLoaded(support: HybridSupport): HybridSupport {
  loaded = support
  return loaded
}

/** What {@link supportLoaded} kept, for code that must stay synchronous; undefined before. */
export function loadedHybridSupport(): HybridSupport | undefined {
  return loaded
}
