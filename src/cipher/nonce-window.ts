/**
 * The default, in-process memory of seen nonces. Two generations of plain string sets, each
 * covering twice the replay window: a nonce is a replay if either generation holds it, and the
 * older generation is dropped whole when the newer one has covered its span. That costs about 60
 * bytes a nonce instead of a TTL entry each, and no per-entry timers or sweeps. A shared
 * StateStore (Redis) replaces it when several instances must see each other's nonces.
 */
import type { Clock } from '../core/clock'

/** Remembers nonces for at least `spanMs`. */
export class NonceWindow {
  readonly #spanMs: number
  readonly #maxEntries: number
  readonly #clock: Clock
  #current = new Set<string>()
  #previous = new Set<string>()
  #rotatedAt: number

  /**
   * @param spanMs how long a nonce must be remembered
   * @param maxEntries most nonces per generation; past it the generation turns over early, which
   *   shortens the memory, so size it above the peak request rate times the span
   */
  constructor(spanMs: number, maxEntries: number, clock: Clock) {
    this.#spanMs = spanMs
    this.#maxEntries = maxEntries
    this.#clock = clock
    this.#rotatedAt = clock.now()
  }

  /** Records a nonce; resolves `false` when it was already seen. */
  add(nonce: string): boolean {
    const now = this.#clock.now()
    if (now - this.#rotatedAt >= this.#spanMs || this.#current.size >= this.#maxEntries) {
      this.#previous = this.#current
      this.#current = new Set()
      this.#rotatedAt = now
    }
    if (this.#current.has(nonce) || this.#previous.has(nonce)) return false
    this.#current.add(nonce)
    return true
  }
}
