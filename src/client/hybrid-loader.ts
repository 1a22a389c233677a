/**
 * Loads the client's half of the hybrid agreement on first use. It runs on `node:crypto` (the
 * combiner and handshake proofs are shared with the server), so the browser build of the client
 * replaces this module with hybrid-loader.browser.ts, which has none: a browser client then
 * agrees classically where the server allows it, and refuses where it does not.
 */
import type { Clock } from '../core/clock'
import type { HandshakeOutcome } from './hybrid-session'

/** What the key source needs of the hybrid agreement. */
export interface HybridAgreement {
  agreeSession(
    mountUrl: string,
    published: Record<string, unknown>,
    fetcher: typeof fetch,
    clock: Clock,
  ): Promise<HandshakeOutcome>
}

/** The hybrid agreement, or undefined where this runtime's build has none. */
export async function loadHybridAgreement(): Promise<HybridAgreement | undefined> {
  return import('./hybrid-session')
}
