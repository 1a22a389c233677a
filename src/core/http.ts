/**
 * The web-standard-like request and response shapes the core speaks. Middleware translates its
 * framework's objects into a CoreRequest and writes a CoreResponse back; nothing in src/ ever sees
 * a framework object. These are plain objects rather than WHATWG Request/Response instances because
 * constructing those costs more than the whole proxy hop is allowed to add.
 */

/** A request body as the framework hands it over. */
export type CoreRequestBody =
  /** Raw bytes, not yet read (Koa, Express without a body parser, plain node:http). */
  | { readonly kind: 'stream'; readonly stream: AsyncIterable<Uint8Array> }
  /** Already parsed by the framework (Fastify's JSON parser, express.json()). */
  | { readonly kind: 'parsed'; readonly value: unknown }
  /** Already read into memory as raw bytes (a framework's raw or text parser). */
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array }
  /** No body (GET, HEAD). */
  | { readonly kind: 'empty' }

/** An incoming HTTP request in framework-neutral form. */
export interface CoreRequest {
  /** Upper-case method, e.g. `POST`. */
  readonly method: string
  /** Path and query relative to where the handler is mounted, e.g. `/v1/chat/completions?x=1`. */
  readonly url: string
  /** Header names in lower case; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly body: CoreRequestBody
  /** Aborts when the client goes away; handlers pass it on to upstream calls. */
  readonly signal: AbortSignal
  /** The peer address, for audit and rate limiting; absent on Unix sockets. */
  readonly remoteAddress?: string
}

/** A response body: bytes in memory, or a stream written with backpressure. */
export type CoreResponseBody = Uint8Array | string | AsyncIterable<Uint8Array> | null

/** An outgoing HTTP response in framework-neutral form. */
export interface CoreResponse {
  readonly status: number
  /**
   * Header names in lower case. A header whose values cannot be joined into one line keeps them
   * apart: `set-cookie` (RFC 6265 §3) is an array when the upstream sent it more than once.
   */
  readonly headers: Record<string, string | string[]>
  readonly body: CoreResponseBody
}

/**
 * A core request handler. It resolves `undefined` when the request is not its business, so the
 * middleware passes it on (`next()` in Express and Koa, 404 handling in Fastify).
 */
export type CoreHandler = (request: CoreRequest) => Promise<CoreResponse | undefined>

/** Tries handlers in order and answers with the first that takes the request. */
export function chainHandlers(...handlers: readonly CoreHandler[]): CoreHandler {
  return async (request) => {
    for (const handler of handlers) {
      const response = await handler(request)
      if (response !== undefined) return response
    }
    return undefined
  }
}
