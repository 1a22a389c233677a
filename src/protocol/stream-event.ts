/**
 * A stream event as the pipeline carries it between the upstream and the wire: the event's JSON
 * object and, for protocols that name events (Anthropic, the Responses API), its SSE name. Events
 * stay objects through every stage; only the last step seals and frames them.
 */

/** One event of a response stream. */
export interface StreamEvent {
  readonly data: Record<string, unknown>
  /** The SSE event name; absent for unnamed events and NDJSON lines. */
  readonly name?: string
}
