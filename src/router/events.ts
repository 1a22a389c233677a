/**
 * Telemetry hooks of the router: an `onEvent` callback and the `continuum:router` diagnostics
 * channel (for users without OpenTelemetry, like undici and lru-cache do). Events carry provider
 * ids, model names, codes and durations only, never content. The `onEvent` hook runs inside a guard: a
 * throwing hook is logged and ignored, it can never break a request.
 */
import diagnosticsChannel from 'node:diagnostics_channel'
import type { Logger } from '../core/logger'
import type { ErrorCode } from '../errors'
import type { BreakerState } from './circuit-breaker'

/** The operation a request performs. */
export type RouterOperation = 'complete' | 'stream' | 'embed' | 'count_tokens'

/** Everything the router reports. */
export type RouterEvent =
  | { type: 'route'; operation: RouterOperation; model: string; providers: string[]; policy: string }
  | {
      type: 'attempt-start'
      operation: RouterOperation
      provider: string
      model: string
      attempt: number
      /** Unique per router, shared by the attempt's start and end (spans pair them by it). */
      attemptId: number
    }
  | {
      type: 'attempt-end'
      operation: RouterOperation
      provider: string
      model: string
      attempt: number
      attemptId: number
      /** Time to the answer; for a stream, to its first chunk (the router's latency sample). */
      latencyMs: number
      /** Time from the attempt's start to its end (a stream's last chunk). */
      durationMs: number
      /** `cancelled`: the consumer stopped reading a started stream. */
      outcome: 'success' | 'error' | 'cancelled'
      errorCode?: ErrorCode
      /** Token counts the provider reported. */
      usage?: { inputTokens: number; outputTokens: number }
    }
  | {
      type: 'provider-skipped'
      operation: RouterOperation
      provider: string
      reason: 'circuit-open' | 'requests-per-minute' | 'tokens-per-minute' | 'concurrency'
    }
  | { type: 'breaker-state'; provider: string; from: BreakerState; to: BreakerState }
  | { type: 'stream-interrupted'; provider: string; model: string; errorCode: ErrorCode }

/** The diagnostics channel the router publishes every event on. */
export const ROUTER_DIAGNOSTICS_CHANNEL = 'continuum:router'

const channel = diagnosticsChannel.channel(ROUTER_DIAGNOSTICS_CHANNEL)

/**
 * The guarded emitter the router calls. The router asks `observed` before it builds an event, so
 * a router nobody listens to builds none: the channel's subscribers are checked on each call (they
 * may come and go), the hook once.
 */
export class RouterEvents {
  readonly #onEvent: ((event: RouterEvent) => void) | undefined
  readonly #logger: Logger

  constructor(onEvent: ((event: RouterEvent) => void) | undefined, logger: Logger) {
    this.#onEvent = onEvent
    this.#logger = logger
  }

  /** Whether an event would reach anyone: the `onEvent` hook or a channel subscriber. */
  get observed(): boolean {
    return this.#onEvent !== undefined || channel.hasSubscribers
  }

  emit(event: RouterEvent): void {
    if (this.#onEvent !== undefined) {
      try {
        this.#onEvent(event)
      } catch {
        this.#logger.warn({ event: event.type }, 'router onEvent hook threw; ignored')
      }
    }
    // Node itself isolates diagnostics_channel subscribers: their throws go to 'uncaughtException'.
    if (channel.hasSubscribers) channel.publish(event)
  }
}
