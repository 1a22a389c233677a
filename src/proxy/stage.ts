/**
 * The stage contract: how cross-cutting concerns (prompt scanning, audit, telemetry, caching) wrap
 * an exchange without the pipeline knowing them, in the spirit of the AI SDK's middleware. A stage
 * sees the decrypted request in-process; it must never copy content into logs or records.
 */

import type { CoreRequest } from '../core/http'
import type { Logger } from '../core/logger'
import type { RouteMatch } from '../protocol/registry'

/** One exchange as stages see it. */
export interface Exchange {
  /** Random id of this exchange, also sent to the client as `x-request-id` when absent. */
  readonly requestId: string
  readonly method: string
  readonly match: RouteMatch
  /** The decrypted, validated request body. Stages may replace members (e.g. redaction). */
  body: Record<string, unknown>
  /** Whether the client used field encryption. */
  readonly encrypted: boolean
  /** Key id the client used, when encrypted. */
  readonly keyId: string | undefined
  /** Request headers (lower case), without the protocol's own. */
  readonly headers: Readonly<Record<string, string | undefined>>
  /** Whether the response streams. */
  readonly streaming: boolean
  /** Headers stages add to the client response (e.g. a scanner warning). */
  readonly responseHeaders: Record<string, string>
  /** Values stages share with each other (e.g. the scanner verdict for the audit record). */
  readonly annotations: Record<string, unknown>
  /** Start time, from the injected clock. */
  readonly startedAt: number
}

/** How an exchange ended. */
export interface ExchangeOutcome {
  /** HTTP status sent to the client. */
  status: number
  /** The error code when the exchange failed. */
  errorCode?: string
  /** End time, from the injected clock. */
  endedAt: number
}

/** A cross-cutting stage. Hooks that throw a ContinuumError reject the request with it. */
export interface ProxyStage {
  readonly name: string
  /**
   * When a request on an encrypted route arrives, before its body is read: follows the whole
   * exchange, including requests refused before they were decrypted (telemetry, audit). Calls on the
   * observation are guarded: a throwing observer is logged and ignored.
   */
  observe?(request: CoreRequest, match: RouteMatch): ExchangeObservation | undefined
  /** After decryption and validation, before forwarding; may reject or adjust the body. */
  beforeForward?(exchange: Exchange): void | Promise<void>
  /** After the response (or its stream) finished; errors here are logged and ignored. */
  afterExchange?(exchange: Exchange, outcome: ExchangeOutcome): void | Promise<void>
}

/**
 * A phase of an exchange an observer can time: `decrypt` (read, authenticate, decrypt and validate
 * the request), `stage` (one stage's `beforeForward`), `upstream` (until the upstream's response
 * headers arrive) and `encrypt` (building the client response; for a stream, until it ends).
 */
export type ExchangePhase = 'decrypt' | 'stage' | 'upstream' | 'encrypt'

/** Ends a phase, with the error when it failed. */
export type ExchangePhaseEnd = (error?: unknown) => void

/**
 * Follows one request on an encrypted adapter route from its first byte to its last, for telemetry
 * and audit. Returned by `ProxyStage.observe`.
 */
export interface ExchangeObservation {
  /** A phase starts; call the returned function when it ends. `stage` names the stage of a `stage` phase. */
  phase(phase: ExchangePhase, stage?: string): ExchangePhaseEnd
  /** The request was decrypted and validated. */
  accepted(exchange: Exchange): void
  /**
   * The plain upstream response body, or one plain stream event, before it is encrypted: for token
   * usage and response ids. Observers must read counts and ids only and keep no content.
   */
  upstreamEvent(event: Record<string, unknown>): void
  /** The exchange ended (for a stream, when its last byte went out); called once. */
  end(outcome: ExchangeOutcome): void
  /**
   * Runs the upstream call inside the observer's context (telemetry makes its `upstream` span the
   * active one, so spans the call creates, such as the router's provider calls, nest under it).
   */
  within?<T>(run: () => Promise<T>): Promise<T>
}

/** Creates the observation of one exchange. */
export interface ExchangeObserver {
  begin(request: CoreRequest, match: RouteMatch): ExchangeObservation | undefined
}

function guarded(logger: Logger, stage: string, run: () => void): void {
  try {
    run()
  } catch {
    logger.warn('stage observer threw; ignored', { stage })
  }
}

/** Joins the `observe` hooks of the stages into one observer, each call guarded; undefined when none observes. */
export function observerOf(stages: readonly ProxyStage[], logger: Logger): ExchangeObserver | undefined {
  const observing = stages.filter((stage) => stage.observe !== undefined)
  if (observing.length === 0) return undefined
  return {
    begin(request, match) {
      const observations: { stage: string; observation: ExchangeObservation }[] = []
      for (const stage of observing) {
        guarded(logger, stage.name, () => {
          const observation = stage.observe?.(request, match)
          if (observation !== undefined) observations.push({ stage: stage.name, observation })
        })
      }
      if (observations.length === 0) return undefined
      const each = (run: (observation: ExchangeObservation) => void): void => {
        for (const entry of observations) guarded(logger, entry.stage, () => run(entry.observation))
      }
      return {
        phase(phase, stage) {
          const ends: ExchangePhaseEnd[] = []
          each((observation) => ends.push(observation.phase(phase, stage)))
          return (error) => {
            for (const end of ends) guarded(logger, phase, () => end(error))
          }
        },
        accepted: (exchange) => each((observation) => observation.accepted(exchange)),
        upstreamEvent: (event) => each((observation) => observation.upstreamEvent(event)),
        end: (outcome) => each((observation) => observation.end(outcome)),
        within: <T>(run: () => Promise<T>): Promise<T> =>
          observations.reduceRight<() => Promise<T>>(
            (inner, { observation }) =>
              observation.within === undefined ? inner : () => observation.within!(inner),
            run,
          )(),
      }
    },
  }
}
