/**
 * Circuit breakers shared through the StateStore (the router's `sharedBreakers` option), so one
 * instance's failures open a provider's breaker on every instance. The hot path stays local and
 * synchronous: each request reads its instance's own breaker, as without sharing. What is shared
 * is the open period: a breaker that trips writes `breaker:{provider}` (its end time, expiring
 * with the cooldown), and every instance reads those keys in the background every `refreshMs`
 * (one pipelined batch of GETs) and opens its own breaker until the announced time. So a breaker
 * opened anywhere is honoured everywhere within `refreshMs`, at a cost of one read per provider
 * per period per instance and one write per trip, never a store call per request.
 *
 * Failures are counted per instance (sharing every success and failure would put a write on every
 * request); half-open probing is per instance too, and so is the rule of `countTimeouts`: a
 * timeout is neutral when the provider answered someone on this instance since the attempt
 * started. A store that cannot answer leaves each instance with its local breakers (fail open),
 * with a metric and a log line.
 */
import type { Clock } from '../core/clock'
import type { StateStore } from '../stores'
import type { StoreFailureReporter } from '../stores/store-failure'
import type { CircuitBreaker } from './circuit-breaker'

/** Keeps the breakers of one router in step with the store. */
export class SharedBreakers {
  readonly #breakers = new Map<string, CircuitBreaker>()
  readonly #timer: NodeJS.Timeout
  #refreshing = false

  constructor(
    private readonly store: StateStore,
    private readonly clock: Clock,
    private readonly failures: StoreFailureReporter,
    refreshMs: number,
  ) {
    this.#timer = setInterval(() => void this.refresh(), refreshMs)
    this.#timer.unref()
  }

  static key(providerId: string): string {
    return `breaker:{${encodeURIComponent(providerId)}}`
  }

  /** Registers a provider's breaker, to be kept in step. */
  add(providerId: string, breaker: CircuitBreaker): void {
    this.#breakers.set(providerId, breaker)
  }

  /** Announces that a breaker tripped here and stays open until `openUntil`. */
  publish(providerId: string, openUntil: number): void {
    const ttl = openUntil - this.clock.now()
    if (ttl <= 0) return
    this.store.set(SharedBreakers.key(providerId), String(openUntil), ttl).catch((error) => {
      this.failures.report(error, 'open')
    })
  }

  /** Reads every provider's shared open period and adopts those still running. */
  async refresh(): Promise<void> {
    if (this.#refreshing) return
    this.#refreshing = true
    try {
      const entries = [...this.#breakers]
      const values = await Promise.allSettled(entries.map(([id]) => this.store.get(SharedBreakers.key(id))))
      const failed = values.find((outcome) => outcome.status === 'rejected')
      if (failed !== undefined) this.failures.report(failed.reason, 'open')
      values.forEach((outcome, index) => {
        if (outcome.status !== 'fulfilled' || outcome.value === undefined) return
        const until = Number(outcome.value)
        if (Number.isFinite(until)) entries[index]![1].adopt(until)
      })
    } finally {
      this.#refreshing = false
    }
  }

  close(): void {
    clearInterval(this.#timer)
  }
}
