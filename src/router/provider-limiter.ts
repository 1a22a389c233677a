/**
 * Per-provider request and token budgets per minute, and a cap on concurrent requests, so the
 * router stays inside what a provider account (or a local GPU) can take and falls over early
 * instead of collecting 429s. Minute windows live in the StateStore (fixed windows keyed by
 * provider and minute), so several processes sharing a Redis store share one budget. Concurrency
 * is counted in-process: a crashed process must not leave leaked slots behind in a shared store.
 */
import type { Clock } from '../core/clock'
import type { StateStore } from '../stores'

/** Limits of one provider; every field optional (absent means unlimited). */
export interface ProviderLimits {
  /** Requests started per minute. */
  requestsPerMinute?: number
  /** Input plus output tokens per minute (inputs estimated before the call, corrected after). */
  tokensPerMinute?: number
  /** Requests in flight at once, in this process. */
  maxConcurrency?: number
}

/** Why a provider was refused. */
export type LimitRefusal = {
  reason: 'requests-per-minute' | 'tokens-per-minute' | 'concurrency'
  retryAfterMs: number
}

const WINDOW_MS = 60_000

/** The limiter of one provider. */
export class ProviderLimiter {
  #inFlight = 0

  constructor(
    private readonly providerId: string,
    private readonly limits: ProviderLimits,
    private readonly store: StateStore,
    private readonly clock: Clock,
  ) {}

  /** Requests in flight now (read by `least_busy`). */
  get inFlight(): number {
    return this.#inFlight
  }

  /** Whether concurrency alone would refuse a request now (synchronous, for planning). */
  get saturated(): boolean {
    return this.limits.maxConcurrency !== undefined && this.#inFlight >= this.limits.maxConcurrency
  }

  #window(): { key: string; retryAfterMs: number } {
    const now = this.clock.now()
    const windowId = Math.floor(now / WINDOW_MS)
    return { key: `${windowId}`, retryAfterMs: (windowId + 1) * WINDOW_MS - now }
  }

  /**
   * Reserves one request slot and the estimated tokens, or says why not. On success the caller
   * must call `release` exactly once.
   */
  async acquire(estimatedTokens: number): Promise<LimitRefusal | undefined> {
    if (this.saturated) return { reason: 'concurrency', retryAfterMs: 0 }
    this.#inFlight += 1
    try {
      const window = this.#window()
      const { requestsPerMinute, tokensPerMinute } = this.limits
      if (tokensPerMinute !== undefined) {
        const used = Number((await this.store.get(this.#tokenKey(window.key))) ?? 0)
        if (used + estimatedTokens > tokensPerMinute && used > 0) {
          this.#inFlight -= 1
          return { reason: 'tokens-per-minute', retryAfterMs: window.retryAfterMs }
        }
      }
      if (requestsPerMinute !== undefined) {
        const count = await this.store.increment(this.#requestKey(window.key), 1, WINDOW_MS * 2)
        if (count > requestsPerMinute) {
          await this.store.increment(this.#requestKey(window.key), -1, WINDOW_MS * 2)
          this.#inFlight -= 1
          return { reason: 'requests-per-minute', retryAfterMs: window.retryAfterMs }
        }
      }
      return undefined
    } catch (error) {
      this.#inFlight -= 1
      throw error
    }
  }

  /** Frees the slot and charges the tokens actually used (or the estimate when usage is unknown). */
  async release(tokensUsed: number): Promise<void> {
    this.#inFlight = Math.max(0, this.#inFlight - 1)
    if (this.limits.tokensPerMinute === undefined || tokensUsed <= 0) return
    await this.store.increment(this.#tokenKey(this.#window().key), tokensUsed, WINDOW_MS * 2)
  }

  #requestKey(window: string): string {
    return `continuum:router:rpm:${this.providerId}:${window}`
  }

  #tokenKey(window: string): string {
    return `continuum:router:tpm:${this.providerId}:${window}`
  }
}
