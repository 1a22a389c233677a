/**
 * The stage contract: how cross-cutting concerns (prompt scanning, audit, telemetry, caching) wrap
 * an exchange without the pipeline knowing them, in the spirit of the AI SDK's middleware. A stage
 * sees the decrypted request in-process; it must never copy content into logs or records.
 */
import type { RouteMatch } from '../adapters/registry'

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
  /** After decryption and validation, before forwarding; may reject or adjust the body. */
  beforeForward?(exchange: Exchange): void | Promise<void>
  /** After the response (or its stream) finished; errors here are logged and ignored. */
  afterExchange?(exchange: Exchange, outcome: ExchangeOutcome): void | Promise<void>
}
