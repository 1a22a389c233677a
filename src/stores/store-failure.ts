/**
 * What a feature does when the shared store cannot answer, made visible: each decision (fail
 * open: the request goes on without the shared state; fail closed: it is refused with the store's
 * 503) is published on the `continuum:store` diagnostics channel, which the telemetry stage
 * counts as `continuum_store_failures_total`, and logged at most once every few seconds per
 * feature, with no key, value or request content. Replay protection and privacy budgets fail
 * closed; rate limits, breakers, the cache and key reloads fail open.
 */
import diagnosticsChannel from 'node:diagnostics_channel'
import type { Clock } from '../core/clock'
import type { Logger } from '../core/logger'
import { ContinuumError } from '../errors'

/** The diagnostics channel store failures are published on. */
export const STORE_DIAGNOSTICS_CHANNEL = 'continuum:store'

/** The feature whose store call failed. */
export type StoreConsumer =
  | 'replay'
  | 'privacy'
  | 'rate-limit'
  | 'breaker'
  | 'cache'
  | 'fhe-keys'
  | 'key-schedule'
  | 'agreement-session'

/** One failed store call and what the feature made of it. */
export interface StoreFailureEvent {
  readonly type: 'store-failure'
  readonly consumer: StoreConsumer
  /** `open`: the request went on without the shared state; `closed`: it was refused. */
  readonly decision: 'open' | 'closed'
  /** The error code (CONTINUUM_STORE_UNAVAILABLE, or CONTINUUM_INTERNAL for a refused command). */
  readonly code: string
}

const channel = diagnosticsChannel.channel(STORE_DIAGNOSTICS_CHANNEL)
const QUIET_MS = 5_000

/** Whether an error is the store's "cannot answer" (the one a feature may fail open on). */
export function isStoreUnavailable(error: unknown): boolean {
  return ContinuumError.isInstance(error) && error.code === 'CONTINUUM_STORE_UNAVAILABLE'
}

/** Reports one feature's store failures: a channel message each time, a log line now and then. */
export class StoreFailureReporter {
  #lastLine = Number.NEGATIVE_INFINITY

  constructor(
    private readonly consumer: StoreConsumer,
    private readonly logger: Logger,
    private readonly clock: Clock,
  ) {}

  /** Records a failure and the decision taken; never throws. */
  report(error: unknown, decision: 'open' | 'closed'): void {
    const code = ContinuumError.isInstance(error) ? error.code : 'CONTINUUM_INTERNAL'
    if (channel.hasSubscribers) {
      const event: StoreFailureEvent = { type: 'store-failure', consumer: this.consumer, decision, code }
      channel.publish(event)
    }
    const now = this.clock.now()
    if (now - this.#lastLine < QUIET_MS) return
    this.#lastLine = now
    this.logger.warn(
      { consumer: this.consumer, decision, code },
      decision === 'open'
        ? 'shared state store failed; continuing without it'
        : 'shared state store failed; request refused',
    )
  }
}
