/**
 * The HTTP call every router provider client in `adapters/<protocol>/provider.ts` makes: one place
 * that owns the per-attempt timeout, the caller's abort signal, aborting the upstream request when
 * a stream consumer stops reading, bounded error bodies, and the mapping of statuses and network
 * failures onto the router's error codes (through `src/router/provider-errors.ts`). Providers only
 * build URLs, headers and bodies, and translate what comes back.
 */
import type { Dispatcher } from 'undici'
import { ContinuumError } from '../errors'
import { HttpTransport } from '../transport/http-transport'
import { drainAnswered } from './answered-drain'
import { isAbortError, providerErrorFromNetwork, providerErrorFromResponse } from './provider-errors'

/** Construction options of a {@link ProviderHttp}. */
export interface ProviderHttpOptions {
  /** The provider id, named in error messages. */
  providerId: string
  /** Time allowed to receive response headers, then the longest silence between body chunks. */
  timeoutMs: number
  /** undici dispatcher for connection pooling; a keep-alive Agent when neither this nor `fetch` is given. */
  dispatcher?: Dispatcher
  /** A fetch implementation used instead of undici's `request()` (tests, edge runtimes). */
  fetch?: typeof fetch
  /** Largest JSON body accepted. */
  maxResponseBytes: number
}

/** One outgoing call. */
export interface ProviderHttpRequest {
  method: 'GET' | 'POST'
  url: string
  headers: Record<string, string>
  body?: string
  signal?: AbortSignal | undefined
  /**
   * For {@link ProviderHttp.stream}: whether the answer is whole (its terminal event arrived).
   * When the reader stops before the body ends and this says true, the rest of the body is read
   * and dropped in the background (at most a second and 64 KiB), so the keep-alive connection
   * survives a server that ends its body a moment later; otherwise the request is aborted at once.
   * @default undefined (a reader that stops early always aborts the request)
   */
  answered?: () => boolean
  /**
   * For {@link ProviderHttp.stream}: the media types the provider streams in, in lower case and
   * without parameters (`['text/event-stream']`; `text/event-stream; charset=utf-8` matches it). A
   * 2xx answer labelled with another type (a whole `application/json` body) is not read as the
   * stream: it is CONTINUUM_UPSTREAM_PROTOCOL_ERROR (502, not retried), unless
   * {@link ProviderHttpRequest.streamError} reads an error object in it. An answer without a
   * content type is read as the stream.
   * @default undefined (any content type is read as the stream)
   */
  streamTypes?: readonly string[]
  /**
   * For {@link ProviderHttp.stream} with `streamTypes`: the error a JSON body sent in place of the
   * stream reports (parsed, at most 64 KiB), mapped as the provider maps the same object inside
   * its stream; undefined when the body is not an error object.
   * @default undefined (every such body is a protocol error)
   */
  streamError?: (body: unknown) => ContinuumError | undefined
}

/** Response status and lower-case headers of a successful call. */
export interface ProviderHttpHead {
  status: number
  headers: Record<string, string>
}

interface RawResponse extends ProviderHttpHead {
  body: AsyncIterable<Uint8Array>
}

/** Largest error body read before it is dropped (it is never surfaced, only drained). */
const MAX_ERROR_BODY_BYTES = 64 * 1024

/** Sends provider calls; see the module comment. */
export class ProviderHttp {
  readonly #options: ProviderHttpOptions
  readonly #transport: HttpTransport

  constructor(options: ProviderHttpOptions) {
    this.#options = options
    this.#transport = new HttpTransport({
      ...(options.dispatcher === undefined ? {} : { dispatcher: options.dispatcher }),
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    })
  }

  /** Sends a call and parses its JSON answer; non-2xx statuses and network failures throw ContinuumError. */
  async json(request: ProviderHttpRequest): Promise<{ head: ProviderHttpHead; body: unknown }> {
    const call = new Call(this.#options.providerId, this.#options.timeoutMs, request.signal)
    try {
      const response = await this.#send(request, call.signal)
      call.touch()
      if (!isSuccess(response.status)) await this.#rejectErrorStatus(response)
      const text = await this.#readText(response.body, call)
      call.finish()
      let body: unknown
      try {
        body = text === '' ? undefined : JSON.parse(text)
      } catch {
        // No cause: V8's SyntaxError quotes the body around where it stopped, and that is the answer.
        throw new ContinuumError(
          'CONTINUUM_UPSTREAM_PROTOCOL_ERROR',
          `Provider ${this.#options.providerId} answered with a body that is not JSON`,
        )
      }
      return { head: { status: response.status, headers: response.headers }, body }
    } catch (error) {
      throw call.translate(error)
    } finally {
      call.dispose()
    }
  }

  /** Reads a whole JSON body within `maxResponseBytes`; each chunk restarts the call's silence timer. */
  #readText(body: AsyncIterable<Uint8Array>, call: Call): Promise<string> {
    const { providerId, maxResponseBytes } = this.#options
    if (isNodeReadable(body)) return new NodeBodyText(body, call, maxResponseBytes, providerId).promise
    return readIterableText(body, call, maxResponseBytes, providerId)
  }

  /**
   * Sends a call and yields its body chunks. Breaking out of the loop (or any error) aborts the
   * upstream request so the server sees the connection close.
   */
  async *stream(
    request: ProviderHttpRequest,
    onHead?: (head: ProviderHttpHead) => void,
  ): AsyncGenerator<Uint8Array> {
    const call = new Call(this.#options.providerId, this.#options.timeoutMs, request.signal)
    // Read by hand, not by `for await`: leaving that loop would close the body, and an answered
    // body is drained instead (answered-drain.ts).
    let body: AsyncIterator<Uint8Array> | undefined
    try {
      const response = await this.#send(request, call.signal)
      call.touch()
      if (!isSuccess(response.status)) await this.#rejectErrorStatus(response)
      if (request.streamTypes !== undefined) await this.#checkStreamType(request, response)
      onHead?.({ status: response.status, headers: response.headers })
      body = response.body[Symbol.asyncIterator]()
      for (let next = await body.next(); !next.done; next = await body.next()) {
        // A slow consumer is not a silent upstream: the timer stands still while the chunk is handled.
        call.pause()
        yield next.value
        call.touch()
      }
      call.finish()
    } catch (error) {
      throw call.translate(error)
    } finally {
      if (body !== undefined && !call.finished && request.answered?.() === true) drainAnswered(body, call)
      else {
        call.dispose()
        // As `for await` would: close the body too (the abort has ended the request already).
        body?.return?.().catch(() => {})
      }
    }
  }

  /** Closes the keep-alive pool this instance created (never an injected dispatcher). */
  async close(): Promise<void> {
    await this.#transport.close()
  }

  async #send(request: ProviderHttpRequest, signal: AbortSignal): Promise<RawResponse> {
    // The Call's own timer governs timing, so that fetch and undici behave alike.
    const response = await this.#transport.request({
      method: request.method,
      url: request.url,
      headers: request.headers,
      body: request.body ?? null,
      signal,
      headersTimeoutMs: 0,
      bodyTimeoutMs: 0,
    })
    const headers: Record<string, string> = {}
    for (const name in response.headers) {
      const value = response.headers[name]
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value
    }
    return { status: response.status, headers, body: response.body }
  }

  /**
   * Refuses a 2xx answer to a stream request that is labelled as something else than the
   * provider's stream: read as one, a whole JSON body holds no event and would pass for a stream
   * cut short, which is retried. An error object in a JSON body is the provider's to map.
   */
  async #checkStreamType(request: ProviderHttpRequest, response: RawResponse): Promise<void> {
    const label = response.headers['content-type']
    if (label === undefined || label.trim() === '') return
    const type = mediaType(label)
    if (request.streamTypes?.includes(type) === true) return
    const providerId = this.#options.providerId
    if (request.streamError !== undefined && isJsonType(type)) {
      const reported = request.streamError(await boundedJson(response.body))
      if (reported !== undefined) throw reported
    }
    const shown = /^[a-z0-9!#$&^_.+-]{1,64}\/[a-z0-9!#$&^_.+-]{1,64}$/.test(type) ? type : 'another type'
    throw new ContinuumError(
      'CONTINUUM_UPSTREAM_PROTOCOL_ERROR',
      `Provider ${providerId} answered a stream request with ${shown}, not its stream`,
      { details: { provider: providerId, contentType: shown } },
    )
  }

  /**
   * Throws the mapped error for a non-2xx answer after draining a bounded amount of its body.
   * Callers test `isSuccess` first, so a 2xx answer costs no await.
   */
  async #rejectErrorStatus(response: RawResponse): Promise<void> {
    let size = 0
    try {
      for await (const chunk of response.body) {
        size += chunk.byteLength
        if (size > MAX_ERROR_BODY_BYTES) break
      }
    } catch {
      // The status is what matters; a body cut short changes nothing.
    }
    throw providerErrorFromResponse(response.status, response.headers, this.#options.providerId)
  }
}

const isSuccess = (status: number): boolean => status >= 200 && status < 300

/** The media type of a content-type header: lower case, without parameters. */
function mediaType(label: string): string {
  const end = label.indexOf(';')
  return (end === -1 ? label : label.slice(0, end)).trim().toLowerCase()
}

/** `application/json` and the `+json` types (`application/problem+json`). */
const isJsonType = (type: string): boolean => type === 'application/json' || type.endsWith('+json')

/** A body parsed as JSON if it is JSON within MAX_ERROR_BODY_BYTES; undefined otherwise. */
async function boundedJson(body: AsyncIterable<Uint8Array>): Promise<unknown> {
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    for await (const chunk of body) {
      size += chunk.byteLength
      if (size > MAX_ERROR_BODY_BYTES) return undefined
      chunks.push(chunk)
    }
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    // Not JSON, or cut short: then it is no error object either.
    return undefined
  }
}

function responseTooLarge(providerId: string, limit: number): ContinuumError {
  return new ContinuumError(
    'CONTINUUM_UPSTREAM_RESPONSE_TOO_LARGE',
    `Provider ${providerId} answered with more than ${limit} bytes`,
  )
}

/** The part of a Node Readable (undici's response body) that is read by its events. */
interface NodeReadable extends AsyncIterable<Uint8Array> {
  on(event: string, listener: (...args: never[]) => void): unknown
  removeListener(event: string, listener: (...args: never[]) => void): unknown
  destroy(): unknown
}

function isNodeReadable(body: AsyncIterable<Uint8Array>): body is NodeReadable {
  const candidate = body as Partial<NodeReadable>
  return (
    typeof candidate.on === 'function' &&
    typeof candidate.removeListener === 'function' &&
    typeof candidate.destroy === 'function'
  )
}

const ignore = (): void => {}

/**
 * Reads a Node Readable to its end by its events: no async iterator and no promise per chunk,
 * and the listeners are made once per read, in the constructor. Whatever ends the read early (a
 * body past the limit, a stream error, a close before the end) destroys the stream, with an error
 * listener left behind so that a later abort of the request cannot go unheard.
 */
class NodeBodyText {
  readonly promise: Promise<string>
  readonly #chunks: Buffer[] = []
  #size = 0
  readonly #onData: (chunk: Buffer) => void
  readonly #onEnd: () => void
  readonly #onError: (error: Error) => void
  readonly #onClose: () => void
  #resolve!: (text: string) => void
  #reject!: (error: unknown) => void

  constructor(
    private readonly stream: NodeReadable,
    call: Call,
    limit: number,
    providerId: string,
  ) {
    this.promise = new Promise<string>((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
    })
    this.#onData = (chunk) => {
      call.touch()
      this.#size += chunk.byteLength
      if (this.#size > limit) this.#fail(responseTooLarge(providerId, limit))
      else this.#chunks.push(chunk)
    }
    this.#onEnd = () => {
      this.#detach()
      const chunks = this.#chunks
      this.#resolve((chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.#size)).toString('utf8'))
    }
    this.#onError = (error) => this.#fail(error)
    // Like `for await`, a close before the end is a premature close, mapped as a network failure.
    this.#onClose = () =>
      this.#fail(Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }))
    stream.on('data', this.#onData)
    stream.on('end', this.#onEnd)
    stream.on('error', this.#onError)
    stream.on('close', this.#onClose)
  }

  #detach(): void {
    this.stream.removeListener('data', this.#onData)
    this.stream.removeListener('end', this.#onEnd)
    this.stream.removeListener('error', this.#onError)
    this.stream.removeListener('close', this.#onClose)
  }

  #fail(error: unknown): void {
    this.#detach()
    this.stream.on('error', ignore)
    this.stream.destroy()
    this.#reject(error)
  }
}

/** Reads any other body (a fetch response's) chunk by chunk. */
async function readIterableText(
  body: AsyncIterable<Uint8Array>,
  call: Call,
  limit: number,
  providerId: string,
): Promise<string> {
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of body) {
    call.touch()
    size += chunk.byteLength
    if (size > limit) throw responseTooLarge(providerId, limit)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * The lifetime of one call: a controller aborted by the caller's signal, by the timeout, or by
 * `dispose()` when the consumer stopped early, remembering which one fired so errors are mapped
 * to the right code.
 */
class Call {
  readonly #controller = new AbortController()
  readonly #providerId: string
  readonly #timeoutMs: number
  readonly #callerSignal: AbortSignal | undefined
  readonly #onCallerAbort: () => void
  /** One timer per call, re-armed by `refresh()` on each touch rather than replaced. */
  readonly #timer: NodeJS.Timeout
  /** Set while the consumer handles a chunk: a firing timer then changes nothing. */
  #paused = false
  #reason: 'caller' | 'timeout' | undefined
  #finished = false

  constructor(providerId: string, timeoutMs: number, callerSignal: AbortSignal | undefined) {
    this.#providerId = providerId
    this.#timeoutMs = timeoutMs
    this.#callerSignal = callerSignal
    this.#onCallerAbort = () => {
      this.#reason ??= 'caller'
      this.#controller.abort(callerSignal?.reason)
    }
    if (callerSignal?.aborted) this.#onCallerAbort()
    else callerSignal?.addEventListener('abort', this.#onCallerAbort, { once: true })
    this.#timer = setTimeout(() => {
      if (this.#paused || this.#controller.signal.aborted) return
      this.#reason ??= 'timeout'
      this.#controller.abort(new DOMException(`Provider ${this.#providerId} timed out`, 'TimeoutError'))
    }, timeoutMs)
  }

  get signal(): AbortSignal {
    return this.#controller.signal
  }

  /** Restarts the silence timer: called when headers or a body chunk arrive. */
  touch(): void {
    if (this.#controller.signal.aborted) return
    this.#paused = false
    this.#timer.refresh()
  }

  /** Stops the silence timer until the next `touch()`. */
  pause(): void {
    this.#paused = true
  }

  finish(): void {
    this.#finished = true
  }

  /** Whether the body was read to its end. */
  get finished(): boolean {
    return this.#finished
  }

  /** Stops following the caller's signal (an answered body being drained). */
  detachCaller(): void {
    this.#callerSignal?.removeEventListener('abort', this.#onCallerAbort)
  }

  /** Maps whatever was thrown to the contract: the caller's AbortError as is, ContinuumError otherwise. */
  translate(error: unknown): unknown {
    if (this.#reason === 'caller') {
      const reason = this.#callerSignal?.reason
      if (isAbortError(reason)) return reason
      return new DOMException('The operation was aborted', 'AbortError')
    }
    if (this.#reason === 'timeout') {
      return new ContinuumError('CONTINUUM_PROVIDER_TIMEOUT', `Provider ${this.#providerId} timed out`, {
        cause: error,
        details: { provider: this.#providerId, timeoutMs: this.#timeoutMs },
      })
    }
    if (isAbortError(error)) {
      // Not the caller's signal and not our timer: an abort from inside the transport.
      return new ContinuumError(
        'CONTINUUM_PROVIDER_UNAVAILABLE',
        `Provider ${this.#providerId} closed the request`,
        {
          cause: error,
          details: { provider: this.#providerId },
        },
      )
    }
    return providerErrorFromNetwork(error, this.#providerId)
  }

  /** Stops the timer and, when the body was not read to its end, aborts the upstream request. */
  dispose(): void {
    clearTimeout(this.#timer)
    this.#callerSignal?.removeEventListener('abort', this.#onCallerAbort)
    if (!this.#finished && !this.#controller.signal.aborted) {
      this.#controller.abort(new DOMException('The consumer stopped reading', 'AbortError'))
    }
  }
}
