/**
 * Per-provider request and token budgets per minute, and a cap on concurrent requests, so the
 * router stays inside what a provider account (or a local GPU) can take and falls over early
 * instead of collecting 429s. Everything lives in the StateStore, so instances sharing a Redis
 * store share one budget:
 *
 * - the minute windows (fixed windows keyed by provider and minute, both counters under one hash
 *   tag) are checked and counted in one atomic `chargeWithin`: a request and its estimated tokens
 *   are charged together or not at all, so concurrent requests on several instances never spend
 *   the same unit twice. The estimate is corrected by the tokens actually used when the attempt ends;
 * - `maxConcurrency` slots are leases with an expiry, renewed while a request runs, so a crashed
 *   instance frees its slots within one lease period instead of holding them forever.
 *
 * Both calls go out together (one pipelined round trip); the rare refusal of one undoes the
 * other. A store that cannot answer fails open by default (the request goes on, with a metric and
 * a log line), or closed (`rateLimitStoreFailure: 'closed'`) with 503 CONTINUUM_STORE_UNAVAILABLE.
 * A caller that aborts while its admission is still with the store stops waiting at once; the
 * admission is kept track of until the store answers, and whatever it was granted then (the
 * slot, the window charges) is given straight back instead of being held by nobody.
 */
import { randomUUID } from 'node:crypto'
import type { Clock } from '../core/clock'
import type { StateStore } from '../stores'
import { isStoreUnavailable, type StoreFailureReporter } from '../stores/store-failure'
import { clientAbortedError } from './attempt-control'

/** Limits of one provider; every field optional (absent means unlimited). */
export interface ProviderLimits {
  /** Requests started per minute, across every instance sharing the store. */
  requestsPerMinute?: number
  /** Input plus output tokens per minute (inputs estimated before the call, corrected after). */
  tokensPerMinute?: number
  /** Requests in flight at once, across every instance sharing the store (leases with an expiry). */
  maxConcurrency?: number
}

/** Why a provider was refused. */
export type LimitRefusal = {
  reason: 'requests-per-minute' | 'tokens-per-minute' | 'concurrency'
  retryAfterMs: number
}

/** An admitted request's hold on the limits; `release` exactly once when the attempt ends. */
export interface LimitTicket {
  /**
   * Frees the concurrency slot and corrects the token estimate by what was used. The local count
   * drops at once; the promise settles when the store has it (it never rejects), so the router
   * does not hold an answer back for it.
   */
  release(tokensUsed: number): Promise<void>
}

/** A ticket whose admission nobody waited for any more: everything it holds goes back. */
interface AbandonableTicket extends LimitTicket {
  abandon(): void
}

/** How the limiters of one router use the store. */
export interface LimiterSettings {
  readonly store: StateStore
  readonly clock: Clock
  /** How long a concurrency lease lasts without renewal. */
  readonly leaseMs: number
  /** Whether a store failure lets the request through. */
  readonly failOpen: boolean
  readonly failures: StoreFailureReporter
}

const WINDOW_MS = 60_000

interface Held {
  readonly holder: string
}

const RELEASED: Promise<void> = Promise.resolve()

/** The ticket of a limiter with no limits: releasing it only lowers the local in-flight count. */
class LocalTicket implements LimitTicket {
  #released = false

  constructor(private readonly leave: () => void) {}

  release(): Promise<void> {
    if (!this.#released) {
      this.#released = true
      this.leave()
    }
    return RELEASED
  }
}

/** The limiter of one provider. */
export class ProviderLimiter {
  #inFlight = 0
  #sequence = 0
  readonly #instance = randomUUID()
  readonly #leased = new Set<Held>()
  /** Admissions still with the store whose caller aborted; each gives back what it gets. */
  readonly #abandoned = new Set<Promise<unknown>>()
  #renewal: NodeJS.Timeout | undefined
  readonly #tag: string
  /** No budget and no cap: admission never asks the store, and is decided synchronously. */
  readonly #unlimited: boolean
  readonly #leave: () => void

  constructor(
    providerId: string,
    private readonly limits: ProviderLimits,
    private readonly settings: LimiterSettings,
  ) {
    // Encoded, so no provider id can close the hash tag early or spell another provider's keys.
    this.#tag = encodeURIComponent(providerId)
    this.#unlimited =
      limits.requestsPerMinute === undefined &&
      limits.tokensPerMinute === undefined &&
      limits.maxConcurrency === undefined
    this.#leave = () => {
      this.#inFlight = Math.max(0, this.#inFlight - 1)
    }
  }

  /** Requests this instance has in flight now (read by `least_busy`). */
  get inFlight(): number {
    return this.#inFlight
  }

  /** Whether this instance alone already fills the concurrency cap (synchronous, for planning). */
  get saturated(): boolean {
    return this.limits.maxConcurrency !== undefined && this.#inFlight >= this.limits.maxConcurrency
  }

  #window(): { id: number; retryAfterMs: number } {
    const now = this.settings.clock.now()
    const id = Math.floor(now / WINDOW_MS)
    return { id, retryAfterMs: (id + 1) * WINDOW_MS - now }
  }

  #windowKey(window: number, counter: 'rpm' | 'tpm'): string {
    return `router:{${this.#tag}:${window}}:${counter}`
  }

  get #leaseKey(): string {
    return `router:{${this.#tag}}:leases`
  }

  /**
   * Takes a concurrency slot and charges the minute windows, or says why not. Without limits the
   * answer is immediate (no store call, no promise); otherwise it comes once the store answered,
   * or fails with CONTINUUM_CLIENT_ABORTED as soon as `signal` aborts.
   */
  acquire(
    estimatedTokens: number,
    signal?: AbortSignal,
  ): LimitRefusal | LimitTicket | Promise<LimitRefusal | LimitTicket> {
    if (this.#unlimited) {
      this.#inFlight += 1
      return new LocalTicket(this.#leave)
    }
    return this.#acquireShared(estimatedTokens, signal)
  }

  async #acquireShared(
    estimatedTokens: number,
    signal: AbortSignal | undefined,
  ): Promise<LimitRefusal | LimitTicket> {
    if (signal?.aborted) throw clientAbortedError(signal)
    if (this.saturated) return { reason: 'concurrency', retryAfterMs: 0 }
    this.#inFlight += 1
    const admission = this.#admit(estimatedTokens).then(
      (settled) => {
        if ('reason' in settled) this.#inFlight -= 1
        return settled
      },
      (error: unknown) => {
        this.#inFlight -= 1
        throw error
      },
    )
    if (signal === undefined) return admission
    return this.#unlessAborted(admission, signal)
  }

  /**
   * The admission, or CONTINUUM_CLIENT_ABORTED the moment `signal` aborts. An abandoned
   * admission stays tracked until the store answers; a ticket it brings then is abandoned (the
   * slot released, the charges refunded), so no late grant is held by a request that is gone.
   */
  #unlessAborted(
    admission: Promise<LimitRefusal | AbandonableTicket>,
    signal: AbortSignal,
  ): Promise<LimitRefusal | LimitTicket> {
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        const abandoned: Promise<void> = admission
          .then(
            (settled) => {
              if (!('reason' in settled)) settled.abandon()
            },
            () => undefined,
          )
          .finally(() => this.#abandoned.delete(abandoned))
        this.#abandoned.add(abandoned)
        reject(clientAbortedError(signal))
      }
      signal.addEventListener('abort', onAbort, { once: true })
      admission.then(
        (settled) => {
          signal.removeEventListener('abort', onAbort)
          resolve(settled)
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort)
          reject(error)
        },
      )
    })
  }

  async #admit(estimatedTokens: number): Promise<LimitRefusal | AbandonableTicket> {
    const { requestsPerMinute, tokensPerMinute, maxConcurrency } = this.limits
    const { store } = this.settings
    const window = this.#window()
    const charges = []
    if (requestsPerMinute !== undefined) {
      charges.push({ key: this.#windowKey(window.id, 'rpm'), amount: 1, limit: requestsPerMinute })
    }
    // A request estimated above the whole budget still runs alone in a fresh window.
    const reserved =
      tokensPerMinute === undefined ? 0 : Math.min(Math.max(0, estimatedTokens), tokensPerMinute)
    if (tokensPerMinute !== undefined) {
      charges.push({ key: this.#windowKey(window.id, 'tpm'), amount: reserved, limit: tokensPerMinute })
    }
    const held: Held | undefined =
      maxConcurrency === undefined ? undefined : { holder: `${this.#instance}:${++this.#sequence}` }
    const [charged, leased] = await Promise.allSettled([
      charges.length === 0 ? undefined : store.chargeWithin(charges, WINDOW_MS * 2),
      held === undefined
        ? true
        : store.acquireLease(this.#leaseKey, held.holder, maxConcurrency!, this.settings.leaseMs),
    ])
    const failure = [charged, leased].find((outcome) => outcome.status === 'rejected')
    if (failure !== undefined) {
      // Undo what did go through, then decide whether to fail open.
      if (leased.status === 'fulfilled' && leased.value === true && held !== undefined)
        this.#releaseLease(held)
      if (charged.status === 'fulfilled' && charged.value?.accepted) this.#refund(window.id, reserved)
      return this.#storeFailed((failure as PromiseRejectedResult).reason)
    }
    const charge = (
      charged as PromiseFulfilledResult<Awaited<ReturnType<StateStore['chargeWithin']>> | undefined>
    ).value
    const gotLease = (leased as PromiseFulfilledResult<boolean>).value
    if (!gotLease) {
      if (charge?.accepted) this.#refund(window.id, reserved)
      return { reason: 'concurrency', retryAfterMs: 0 }
    }
    if (charge !== undefined && !charge.accepted) {
      if (held !== undefined) this.#releaseLease(held)
      const overRequests = requestsPerMinute !== undefined && charge.values[0]! + 1 > requestsPerMinute
      return {
        reason: overRequests ? 'requests-per-minute' : 'tokens-per-minute',
        retryAfterMs: window.retryAfterMs,
      }
    }
    if (held !== undefined) this.#hold(held)
    return this.#ticket(window.id, reserved, held)
  }

  #storeFailed(error: unknown): AbandonableTicket {
    if (!this.settings.failOpen || !isStoreUnavailable(error)) {
      this.settings.failures.report(error, 'closed')
      throw error
    }
    this.settings.failures.report(error, 'open')
    return this.#ticket(undefined, 0, undefined)
  }

  #ticket(window: number | undefined, reserved: number, held: Held | undefined): AbandonableTicket {
    let released = false
    const ticket: AbandonableTicket = {
      abandon: () => {
        if (released) return
        // Nothing was sent upstream: the request and its estimate leave the windows too.
        if (window !== undefined) this.#refund(window, reserved)
        void ticket.release(0)
      },
      release: async (tokensUsed) => {
        if (released) return
        released = true
        this.#inFlight = Math.max(0, this.#inFlight - 1)
        if (held !== undefined) {
          this.#leased.delete(held)
          if (this.#leased.size === 0) this.#stopRenewal()
        }
        const correction =
          this.limits.tokensPerMinute === undefined || window === undefined || !(tokensUsed > 0)
            ? 0
            : tokensUsed - reserved
        await Promise.all([
          held === undefined
            ? undefined
            : this.#quietly(this.settings.store.releaseLease(this.#leaseKey, held.holder)),
          correction === 0
            ? undefined
            : this.#quietly(
                this.settings.store.increment(this.#windowKey(window!, 'tpm'), correction, WINDOW_MS * 2),
              ),
        ])
      },
    }
    return ticket
  }

  /** Gives back a charge whose lease was refused (or whose lease call failed). */
  #refund(window: number, reserved: number): void {
    const { store } = this.settings
    if (this.limits.requestsPerMinute !== undefined)
      void this.#quietly(store.increment(this.#windowKey(window, 'rpm'), -1, WINDOW_MS * 2))
    if (reserved > 0)
      void this.#quietly(store.increment(this.#windowKey(window, 'tpm'), -reserved, WINDOW_MS * 2))
  }

  #releaseLease(held: Held): void {
    void this.#quietly(this.settings.store.releaseLease(this.#leaseKey, held.holder))
  }

  /** Keeps a lease alive while its request runs: renewed every third of the lease period. */
  #hold(held: Held): void {
    this.#leased.add(held)
    if (this.#renewal !== undefined) return
    this.#renewal = setInterval(() => this.#renew(), Math.max(1, Math.floor(this.settings.leaseMs / 3)))
    this.#renewal.unref()
  }

  #renew(): void {
    const { store, leaseMs } = this.settings
    for (const held of this.#leased) {
      void this.#quietly(
        store.acquireLease(this.#leaseKey, held.holder, this.limits.maxConcurrency!, leaseMs),
      )
    }
  }

  #stopRenewal(): void {
    clearInterval(this.#renewal)
    this.#renewal = undefined
  }

  /** Bookkeeping after admission never fails a request: a failed call is reported and dropped. */
  async #quietly(call: Promise<unknown>): Promise<void> {
    try {
      await call
    } catch (error) {
      this.settings.failures.report(error, 'open')
    }
  }

  /** Stops renewing leases (the router is closing). */
  close(): void {
    this.#leased.clear()
    this.#stopRenewal()
  }
}
