/**
 * Single flight for cache misses. Without it, identical cacheable requests that arrive together
 * all miss and all go upstream: a thundering herd anyone can aim at a slow provider by sending
 * the same question many times at once. With it, the first miss of a cache key leads (goes
 * upstream) and the identical requests that follow wait for its answer, bounded twice: at most
 * `maxWaiters` wait on one flight (the others go upstream on their own), and no waiter waits
 * longer than `maxWaitMs` in all (then it goes on its own). A waiter whose client aborts stops
 * waiting at once.
 *
 * Only an answer the cache would store is handed to the waiters (each gets its own copy, served
 * as a hit): an error, a cut stream or an abandoned leader never becomes another caller's
 * answer. Instead one waiter takes over as the next leader and the rest wait for it, so a leader
 * that fails (or an attacker's leader request aborted on purpose) cannot set the herd loose
 * either. An answer the upstream marked not to be shared (`no-store`, `private`) or too large
 * to keep sends every waiter upstream on its own. Flights are keyed by the cache key, which
 * already covers the scope, the field key and the vary headers, so different tenants never
 * share one; they live in this process only (instances sharing a Redis cache coalesce each on
 * its own).
 */
import { ContinuumError } from '../errors'
import type { CachedResponse } from './sealed-entry'

/** Bounds of coalescing (see ResponseCacheOptions.coalesce). */
export interface CoalesceSettings {
  /** Most requests waiting on one flight; the next ones go upstream on their own. */
  readonly maxWaiters: number
  /** Longest a request waits in all (across leaders) before it goes upstream on its own. */
  readonly maxWaitMs: number
}

/** How a flight ended, as its waiters see it. */
export type FlightOutcome =
  /** A clean answer the cache keeps: every waiter is served a copy. */
  | { readonly kind: 'answered'; readonly entry: CachedResponse }
  /** An answer that must not be shared (or is too large to keep): every waiter asks on its own. */
  | { readonly kind: 'unshared' }
  /** No usable answer (an error, a cut or abandoned stream): one waiter leads the next flight. */
  | { readonly kind: 'failed' }

/** What a request does after {@link CacheFlights.take}. */
export type FlightTurn =
  /** Go upstream and report the outcome with `finish` (exactly once; later calls are ignored). */
  | { readonly role: 'lead'; readonly finish: (outcome: FlightOutcome) => void }
  /** Go upstream without a flight (the flight is full, the wait is over, or the answer is unshared). */
  | { readonly role: 'alone' }
  /** Served from the leader's answer, a copy of its own. */
  | { readonly role: 'served'; readonly entry: CachedResponse }

interface Flight {
  waiters: number
  readonly outcome: Promise<FlightOutcome>
  /** When it started (`performance.now()`): a flight older than `maxWaitMs` is taken over. */
  readonly startedAt: number
}

const ALONE: FlightTurn = { role: 'alone' }

function clientAborted(signal: AbortSignal): ContinuumError {
  return new ContinuumError('CONTINUUM_CLIENT_ABORTED', 'Client closed the connection', {
    cause: signal.reason,
  })
}

/** The flights in progress of one cache stage, one per cache key. */
export class CacheFlights {
  readonly #flights = new Map<string, Flight>()

  constructor(private readonly settings: CoalesceSettings) {}

  /** Flights in progress. */
  get size(): number {
    return this.#flights.size
  }

  /**
   * Leads the flight of `key` when there is none, else waits for it within the bounds. Rejects
   * with CONTINUUM_CLIENT_ABORTED when `signal` aborts while waiting.
   */
  async take(key: string, signal: AbortSignal | undefined): Promise<FlightTurn> {
    if (!this.#live(key)) return this.#lead(key)
    if (signal?.aborted) throw clientAborted(signal)
    let expired = false
    let wake: (() => void) | undefined
    const timer = setTimeout(() => {
      expired = true
      wake?.()
    }, this.settings.maxWaitMs)
    const onAbort = (): void => wake?.()
    signal?.addEventListener('abort', onAbort)
    try {
      for (;;) {
        const flight = this.#live(key)
        if (flight === undefined) return this.#lead(key)
        if (flight.waiters >= this.settings.maxWaiters) return ALONE
        flight.waiters += 1
        const outcome = await new Promise<FlightOutcome | undefined>((resolve) => {
          wake = () => resolve(undefined)
          flight.outcome.then(resolve)
        })
        flight.waiters -= 1
        wake = undefined
        if (signal?.aborted) throw clientAborted(signal)
        if (outcome === undefined || expired) return ALONE
        if (outcome.kind === 'answered') return { role: 'served', entry: structuredClone(outcome.entry) }
        if (outcome.kind === 'unshared') return ALONE
        // The leader got nothing usable: the first waiter to get here leads, the others wait on it.
      }
    } finally {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
    }
  }

  /**
   * The flight of `key`, unless it has run past `maxWaitMs`: every waiter has left it by then, and
   * a leader that never reports (its answer never read) must not hold the key forever.
   */
  #live(key: string): Flight | undefined {
    const flight = this.#flights.get(key)
    if (flight === undefined || performance.now() - flight.startedAt <= this.settings.maxWaitMs) return flight
    this.#flights.delete(key)
    return undefined
  }

  #lead(key: string): FlightTurn {
    let settle!: (outcome: FlightOutcome) => void
    const flight: Flight = {
      waiters: 0,
      outcome: new Promise((resolve) => (settle = resolve)),
      startedAt: performance.now(),
    }
    this.#flights.set(key, flight)
    let finished = false
    return {
      role: 'lead',
      finish: (outcome) => {
        if (finished) return
        finished = true
        if (this.#flights.get(key) === flight) this.#flights.delete(key)
        // A snapshot now: the leader's own copy goes on through the pipeline, which may change it.
        settle(
          outcome.kind === 'answered' ? { kind: 'answered', entry: structuredClone(outcome.entry) } : outcome,
        )
      },
    }
  }
}
