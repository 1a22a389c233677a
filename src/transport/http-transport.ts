/**
 * The one HTTP transport under the proxy's upstream and every router provider: undici's
 * `request()` over an injectable dispatcher (a keep-alive Agent by default, over TCP or a Unix
 * socket), or an injected `fetch` (tests, edge runtimes), with one response shape either way;
 * neither follows a redirect. Callers own timing, error mapping and what they do with the body.
 */
// First: on an old Node, undici fails to load with a message that names nothing useful.
import '../internal/node-check'
import { Agent, type Dispatcher, request as undiciRequest } from 'undici'

/** Construction options of an {@link HttpTransport}. */
export interface HttpTransportOptions {
  /**
   * A ready undici dispatcher (a Pool, an Agent, a MockAgent in tests).
   * @default a keep-alive Agent built from the options below, unless `fetch` is given
   */
  dispatcher?: Dispatcher
  /**
   * A fetch implementation used instead of undici's `request()`.
   * @default undefined
   */
  fetch?: typeof fetch
  /**
   * Unix socket every connection goes to (the URL's host is then only a name).
   * @default undefined
   */
  socketPath?: string
  /**
   * Most connections per origin.
   * @default unlimited (undici's default)
   */
  connections?: number
  /**
   * Time to establish a connection, in milliseconds.
   * @default 10000
   */
  connectTimeoutMs?: number
}

/** One outgoing request. */
export interface HttpTransportRequest {
  method: string
  /** Absolute URL. */
  url: string
  headers: Record<string, string>
  body: string | Uint8Array | AsyncIterable<Uint8Array> | null
  signal?: AbortSignal | undefined
  /** Time until the response head arrives, in milliseconds; 0 leaves timing to the caller. */
  headersTimeoutMs: number
  /** Longest silence between body chunks, in milliseconds; 0 leaves timing to the caller. */
  bodyTimeoutMs: number
}

/** A response: status, lower-case headers, and the body still to read. */
export interface HttpTransportResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: AsyncIterable<Uint8Array>
}

async function* emptyBody(): AsyncGenerator<Uint8Array> {}

/** Sends HTTP requests; see the module comment. */
export class HttpTransport {
  readonly #dispatcher: Dispatcher | undefined
  readonly #fetch: typeof fetch | undefined
  readonly #ownsDispatcher: boolean

  constructor(options: HttpTransportOptions = {}) {
    this.#fetch = options.fetch
    this.#ownsDispatcher = options.dispatcher === undefined && options.fetch === undefined
    this.#dispatcher =
      options.dispatcher ??
      (this.#ownsDispatcher
        ? new Agent({
            keepAliveTimeout: 30_000,
            ...(options.connections === undefined ? {} : { connections: options.connections }),
            connect: {
              timeout: options.connectTimeoutMs ?? 10_000,
              ...(options.socketPath === undefined ? {} : { socketPath: options.socketPath }),
            },
          })
        : undefined)
  }

  /** Sends one request; rejects with the transport's own error on a network failure. */
  async request(request: HttpTransportRequest): Promise<HttpTransportResponse> {
    if (this.#fetch !== undefined) return this.#viaFetch(this.#fetch, request)
    const response = await undiciRequest(request.url, {
      method: request.method as Dispatcher.HttpMethod,
      headers: request.headers,
      body: request.body as Dispatcher.DispatchOptions['body'],
      signal: request.signal,
      dispatcher: this.#dispatcher,
      headersTimeout: request.headersTimeoutMs,
      bodyTimeout: request.bodyTimeoutMs,
    })
    return { status: response.statusCode, headers: response.headers, body: response.body }
  }

  /** Closes the keep-alive pool this transport created (never an injected dispatcher). */
  async close(): Promise<void> {
    if (this.#ownsDispatcher) await this.#dispatcher?.close()
  }

  async #viaFetch(
    fetchImplementation: typeof fetch,
    request: HttpTransportRequest,
  ): Promise<HttpTransportResponse> {
    const init: RequestInit & { dispatcher?: Dispatcher; duplex?: 'half' } = {
      method: request.method,
      headers: request.headers,
      signal: request.signal ?? null,
      // As undici's `request()`: a 3xx is the caller's answer. Followed, it would carry the body
      // and every header but `authorization` (an `x-api-key`, an `api-key`) to whatever host the
      // `location` names.
      redirect: 'manual',
    }
    if (request.body !== null) {
      init.body = request.body as BodyInit
      if (typeof request.body === 'object' && Symbol.asyncIterator in request.body) init.duplex = 'half'
    }
    if (this.#dispatcher !== undefined) init.dispatcher = this.#dispatcher
    const response = await fetchImplementation(request.url, init)
    const headers: Record<string, string> = {}
    response.headers.forEach((value, name) => {
      headers[name] = value
    })
    const body = (response.body ?? emptyBody()) as AsyncIterable<Uint8Array>
    return { status: response.status, headers, body }
  }
}
