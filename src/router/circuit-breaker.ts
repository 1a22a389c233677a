/**
 * A circuit breaker per provider, so a provider that keeps failing is skipped for a cooldown
 * instead of adding its timeout to every request. Closed -> open on N consecutive transient
 * failures or on a failure rate over a rolling window; open -> half-open after the cooldown, when a
 * few probe requests decide between closed and open again. Only transient (`isRetryable`) failures
 * count: a 400 says nothing about the provider's health. The state is read synchronously on every
 * request, so it is process-local; with shared breakers (see shared-breakers.ts) a breaker that
 * trips announces its open period through `onTrip`, and one opened elsewhere is taken over with
 * `adopt`, so one instance's failures open it for all.
 *
 * A timeout is a failure only when it says the provider is down, not that one request was slow:
 * with `countTimeouts: 'unresponsive'` (the default) a timed-out attempt counts only when nothing
 * came back in it (no answer, no first stream chunk) and the provider answered nobody else on
 * this instance since that attempt started. Otherwise, requests an attacker makes slow (a huge
 * output, a prompt that takes long) would open the breaker for every caller while the provider
 * serves everyone else. A caller's own abort never counts, whatever the setting.
 */
import type { Clock } from '../core/clock'

/** Breaker state. */
export type BreakerState = 'closed' | 'open' | 'half-open'

/** Normalised breaker settings (see RouterOptions.breaker for the documented defaults). */
export interface BreakerSettings {
  failureThreshold: number
  failureRateThreshold: number
  minimumRequests: number
  windowMs: number
  cooldownMs: number
  halfOpenProbes: number
  /** Which timeouts are failures: see RouterOptions.breaker.countTimeouts. */
  countTimeouts: 'unresponsive' | 'always'
}

const BUCKETS = 10

/** One provider's breaker. */
export class CircuitBreaker {
  #state: BreakerState = 'closed'
  #consecutiveFailures = 0
  #openedAt = 0
  #probesInFlight = 0
  /** When the provider last answered anyone (an answer, or a stream's first chunk). */
  #answeredAt = Number.NEGATIVE_INFINITY
  readonly #successes = new Array<number>(BUCKETS).fill(0)
  readonly #failures = new Array<number>(BUCKETS).fill(0)
  readonly #bucketIds = new Array<number>(BUCKETS).fill(-1)
  readonly #bucketMs: number

  constructor(
    readonly settings: BreakerSettings,
    private readonly clock: Clock,
    private readonly onStateChange: (from: BreakerState, to: BreakerState) => void,
    /** Called when this breaker opens on its own failures, with the end of its open period. */
    private readonly onTrip?: (openUntil: number) => void,
  ) {
    this.#bucketMs = Math.max(1, Math.floor(settings.windowMs / BUCKETS))
  }

  /** The state now, moving open -> half-open once the cooldown has passed. */
  get state(): BreakerState {
    if (this.#state === 'open' && this.clock.now() - this.#openedAt >= this.settings.cooldownMs) {
      this.#transition('half-open')
    }
    return this.#state
  }

  /** Milliseconds until an open breaker lets a probe through; 0 when not open. */
  retryInMs(): number {
    if (this.state !== 'open') return 0
    return Math.max(0, this.#openedAt + this.settings.cooldownMs - this.clock.now())
  }

  /** Whether a request may go now; in half-open, reserves one of the probe slots. */
  tryAcquire(): boolean {
    const state = this.state
    if (state === 'closed') return true
    if (state === 'open') return false
    if (this.#probesInFlight >= this.settings.halfOpenProbes) return false
    this.#probesInFlight += 1
    return true
  }

  /** Whether a request could go now, without reserving anything (for planning and explain). */
  isAvailable(): boolean {
    const state = this.state
    return (
      state === 'closed' || (state === 'half-open' && this.#probesInFlight < this.settings.halfOpenProbes)
    )
  }

  /** Notes that the provider answered someone (a stream's first chunk) without ending an attempt. */
  recordAnswer(): void {
    this.#answeredAt = this.clock.now()
  }

  recordSuccess(): void {
    this.#answeredAt = this.clock.now()
    this.#count(this.#successes)
    this.#consecutiveFailures = 0
    if (this.#state === 'half-open') {
      this.#probesInFlight = Math.max(0, this.#probesInFlight - 1)
      this.#resetWindow()
      this.#transition('closed')
    }
  }

  /** Records the end of an attempt that failed for a reason that is not the provider's fault. */
  recordNeutral(): void {
    if (this.#state === 'half-open') this.#probesInFlight = Math.max(0, this.#probesInFlight - 1)
  }

  /**
   * Records an attempt that timed out, started at `startedAt`: a failure when the provider was
   * unresponsive (nothing came back in the attempt, `answered` false, and no one was answered
   * since it started) or when every timeout counts; neutral otherwise.
   */
  recordTimeout(startedAt: number, answered: boolean): void {
    const unresponsive = !answered && this.#answeredAt < startedAt
    if (this.settings.countTimeouts === 'always' || unresponsive) this.recordFailure()
    else this.recordNeutral()
  }

  recordFailure(): void {
    this.#count(this.#failures)
    this.#consecutiveFailures += 1
    if (this.#state === 'half-open') {
      this.#probesInFlight = Math.max(0, this.#probesInFlight - 1)
      this.#open()
      return
    }
    if (this.#state !== 'closed') return
    if (this.#consecutiveFailures >= this.settings.failureThreshold) {
      this.#open()
      return
    }
    const { successes, failures } = this.#windowTotals()
    const total = successes + failures
    if (total >= this.settings.minimumRequests && failures / total >= this.settings.failureRateThreshold)
      this.#open()
  }

  #open(): void {
    this.#openedAt = this.clock.now()
    this.#transition('open')
    this.onTrip?.(this.#openedAt + this.settings.cooldownMs)
  }

  /**
   * Takes over an open period announced by another instance: open until `openUntil` (at most one
   * cooldown from now, whatever the other instance's clock says). A breaker already open for
   * longer keeps its own period.
   */
  adopt(openUntil: number): void {
    const now = this.clock.now()
    const until = Math.min(openUntil, now + this.settings.cooldownMs)
    if (until <= now) return
    const state = this.state
    if (state === 'open' && this.#openedAt + this.settings.cooldownMs >= until) return
    this.#openedAt = until - this.settings.cooldownMs
    this.#transition('open')
  }

  #transition(to: BreakerState): void {
    const from = this.#state
    if (from === to) return
    this.#state = to
    if (to === 'closed') this.#consecutiveFailures = 0
    if (to !== 'half-open') this.#probesInFlight = 0
    this.onStateChange(from, to)
  }

  #count(counts: number[]): void {
    const bucketId = Math.floor(this.clock.now() / this.#bucketMs)
    const index = bucketId % BUCKETS
    if (this.#bucketIds[index] !== bucketId) {
      this.#bucketIds[index] = bucketId
      this.#successes[index] = 0
      this.#failures[index] = 0
    }
    counts[index] = (counts[index] ?? 0) + 1
  }

  #windowTotals(): { successes: number; failures: number } {
    const oldest = Math.floor(this.clock.now() / this.#bucketMs) - BUCKETS + 1
    let successes = 0
    let failures = 0
    for (let index = 0; index < BUCKETS; index += 1) {
      if ((this.#bucketIds[index] ?? -1) < oldest) continue
      successes += this.#successes[index] ?? 0
      failures += this.#failures[index] ?? 0
    }
    return { successes, failures }
  }

  #resetWindow(): void {
    this.#bucketIds.fill(-1)
    this.#successes.fill(0)
    this.#failures.fill(0)
  }
}
