/**
 * The upstream contract: what answers at the end of the pipeline. The built-in one forwards to an
 * inference server over HTTP (http-upstream.ts); the router's gateway answers from an
 * InferenceRouter; anything with `send` and `close` will do (a test double, a queue, another
 * process). On adapter routes the request carries the matched route and the decrypted body as an
 * object, so an in-process upstream never parses what the pipeline already parsed.
 */
import type { RouteMatch } from '../protocol/registry'
import type { ExchangeResponse } from './exchange'

/** The body of an upstream request. */
export type UpstreamRequestBody =
  /** The decrypted, validated body of an adapter route. */
  | { readonly type: 'json'; readonly value: Record<string, unknown> }
  /** Bytes as the client sent them (plain routes, pass-through paths). */
  | { readonly type: 'bytes'; readonly bytes: Uint8Array }
  | { readonly type: 'stream'; readonly stream: AsyncIterable<Uint8Array> }
  | { readonly type: 'empty' }

/** What the pipeline sends upstream. */
export interface UpstreamRequest {
  readonly method: string
  /** Path and query relative to the mount point, e.g. `/v1/chat/completions?x=1`. */
  readonly url: string
  /** Request headers to send (hop-by-hop and `x-continuum-*` headers removed). */
  readonly headers: Record<string, string>
  readonly body: UpstreamRequestBody
  /** Aborts when the client goes away. */
  readonly signal: AbortSignal
  /** The adapter route the request matched; undefined on pass-through paths. */
  readonly route: RouteMatch | undefined
}

/** What comes back: the plain response, with its body as bytes or already as objects. */
export type UpstreamResponse = ExchangeResponse

/** Where exchanges end. */
export interface Upstream {
  /** Sends one request. Transport failures reject with a ContinuumError (502, 504). */
  send(request: UpstreamRequest): Promise<UpstreamResponse>
  /** Releases connections (or the router, when it belongs to the upstream). */
  close(): Promise<void>
}

/** Whether a value is an Upstream object (anything with `send` and `close` functions). */
export function isUpstream(value: unknown): value is Upstream {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Upstream).send === 'function' &&
    typeof (value as Upstream).close === 'function'
  )
}
