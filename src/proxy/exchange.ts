/**
 * The exchange contract: what stages and upstreams see of one request on an adapter route, and
 * the plain response they hand back. Bodies stay objects until the wire (a JSON object, or stream
 * events), so a stage reads token counts or stores an answer without parsing text, and the router
 * gateway hands its events to the sealer as they are. The decrypted request and every plain
 * response live in-process only: stages must never copy content into logs or records.
 */
import type { CoreRequest } from '../core/http'
import type { ContinuumError } from '../errors'
import type { RequestFacts, ResponseFacts } from '../protocol/facts'
import type { RouteMatch } from '../protocol/registry'
import type { StreamEvent } from '../protocol/stream-event'

/** A response body as stages and upstreams pass it. */
export type ResponseBody =
  /** A JSON object, e.g. a chat completion or an error body. */
  | { readonly type: 'json'; readonly value: Record<string, unknown> }
  /** A stream; it ends normally only when the protocol's end was reached, and throws otherwise. */
  | { readonly type: 'events'; readonly events: AsyncIterable<StreamEvent> }
  /** Bytes as the upstream sent them; only plain exchanges without stages keep them as bytes. */
  | { readonly type: 'bytes'; readonly stream: AsyncIterable<Uint8Array> }

/** The plain response of an exchange, before the pipeline encrypts and frames it. */
export interface ExchangeResponse {
  readonly status: number
  /** Response headers as the upstream gave them (lower case); the pipeline filters what reaches the client. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  readonly body: ResponseBody
  /** The failure this response reports (a gateway error body, say), for stages and the outcome. */
  readonly failure?: ContinuumError
}

/** When a phase of the pipeline ran, for telemetry: milliseconds of the injected clock. */
export interface PhaseTiming {
  /**
   * `decrypt` (read, authenticate, decrypt, validate), `stage`, `upstream` (until the response head),
   * `encrypt`, or `first-event`: the instant the first stream event went to the encoder (start = end).
   */
  readonly phase: 'decrypt' | 'stage' | 'upstream' | 'encrypt' | 'first-event'
  /** The stage's name, for a `stage` phase. */
  readonly stage?: string
  readonly start: number
  end: number
  /** The error code, when the phase failed. */
  errorCode?: string
}

/** How an exchange ended. */
export interface ExchangeOutcome {
  /** HTTP status sent to the client. */
  readonly status: number
  /** The error code when the exchange failed, also when it failed inside a stream. */
  readonly errorCode?: string
  /** End time (for a stream, after its last byte went out), from the injected clock. */
  readonly endedAt: number
  /** Model and parameters of the accepted request; undefined when it was refused before. */
  readonly request: RequestFacts | undefined
  /** Ids, finish reasons and token counts the response reported. */
  readonly response: ResponseFacts
  /** The phases that ran, in order. */
  readonly timings: readonly PhaseTiming[]
}

/** One exchange as `wrapExchange` stages see it: the request may not be accepted yet. */
export interface ReceivedExchange {
  /**
   * The id of this exchange, sent to the client as `x-request-id`: the client's own when it is
   * well-formed (src/internal/request-id.ts), else a random UUID. A claim, not a verified identity.
   */
  readonly requestId: string
  readonly request: CoreRequest
  readonly route: RouteMatch
  /** The query string with its `?`, or `''`. */
  readonly query: string
  /** The decrypted, validated request body, once accepted. Stages may replace members (redaction). */
  body: Record<string, unknown> | undefined
  /** Whether the client used field encryption (known once accepted). */
  encrypted: boolean
  /** Key id the client used, when encrypted. */
  keyId: string | undefined
  /** Whether the response streams (known once accepted). */
  streaming: boolean
  /** Headers stages add to the client response (e.g. a scanner warning). */
  readonly responseHeaders: Record<string, string>
  /** Values stages share with each other (e.g. the scanner's verdict for the audit record). */
  readonly annotations: Record<string, unknown>
  /** Start time, from the injected clock. */
  readonly startedAt: number
  /**
   * Calls `listener` once when the exchange ended: for a stream after its last byte, for a refusal
   * once the error answer is written. Listeners run guarded: one that throws is logged and ignored.
   */
  onEnd(listener: (outcome: ExchangeOutcome) => void): void
}

/** An accepted exchange: decrypted and validated, as `wrapRequest` and `wrapUpstream` stages see it. */
export interface Exchange extends ReceivedExchange {
  body: Record<string, unknown>
}
