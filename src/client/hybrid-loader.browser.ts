/**
 * The browser build's stand-in for hybrid-loader.ts (tsup.config.ts and test/browser/bundle.ts
 * swap it in): no hybrid agreement in this build, so the key source agrees classically where the
 * server allows it and refuses with CONTINUUM_KEY_AGREEMENT_FAILED where it does not.
 */
import type { HybridAgreement } from './hybrid-loader'

/** Always undefined: the browser build has no hybrid agreement yet (docs/browser.md). */
export async function loadHybridAgreement(): Promise<HybridAgreement | undefined> {
  return undefined
}
