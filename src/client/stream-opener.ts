/**
 * Client side of an encrypted stream: verifies each event's seal in sequence, decrypts it, and
 * re-emits it in the protocol's own framing for the SDK; a batch frame (when the request asked
 * for them) is authenticated and decrypted whole, and its plain framing passed on as it is. Anything unsealed, out of order, after
 * the end marker (but the terminal sentinel), or a stream that stops before the end marker
 * becomes an error, never a short answer that looks complete or a chunk the server did not send.
 */

import { BATCH_EVENT_NAME, END_EVENT_NAME, EVENT_SEAL_KEY } from '../cipher/format'
import { ContinuumError, isErrorCode } from '../errors'
import type { CompiledStream } from '../protocol/compiled-route'
import { LineDecoder } from '../streams/line-splitter'
import { parseNdjsonLine } from '../streams/ndjson'
import { formatSse, SseDecoder, type SseEvent } from '../streams/sse'
import type { MaybePromise } from './web-crypto/backend'
import { isBatchFrame, openBatch, parseBatchFrame } from './web-crypto/batch'
import { concatBytes } from './web-crypto/bytes'
import { isPending } from './web-crypto/field-cipher'
import {
  type ClientCipherContext as CipherContext,
  isEndMarker,
  openEvent,
  type ClientStreamFailure as StreamFailure,
  verifyEndMarker,
} from './web-crypto/index'

const encoder = new TextEncoder()

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

function tampered(why: string): ContinuumError {
  return new ContinuumError('CONTINUUM_RESPONSE_INTEGRITY_FAILED', `Encrypted stream ${why}`)
}

/** The failure a verified failure marker reports, as the error it names. */
function reported(failure: StreamFailure): ContinuumError {
  return isErrorCode(failure.code)
    ? new ContinuumError(failure.code, failure.message)
    : new ContinuumError('CONTINUUM_UPSTREAM_STREAM_ABORTED', failure.message)
}

function truncated(): ContinuumError {
  return new ContinuumError('CONTINUUM_STREAM_TRUNCATED', 'Encrypted stream ended without its end marker')
}

/**
 * Where the stream is: events are verified in order until the end marker; then only the
 * protocol's terminal sentinel may follow, once. Every unsealed event, in-band `error` frames and
 * error-looking JSON included, is an integrity failure: the server reports failures only in a
 * sealed failure marker, so an unsealed one was written on the path.
 */
class StreamState {
  sequence = 0
  ended = false
  sentinel = false
  /** The server's sealed failure marker was verified: its error is thrown as it is. */
  failed = false

  constructor(
    readonly stream: CompiledStream,
    readonly context: CipherContext,
  ) {}

  /** Verifies an end marker; throws the failure a failed stream's marker names. */
  async end(marker: unknown): Promise<void> {
    if (!isRecord(marker) || this.ended) throw tampered('carried an unsealed or second end marker')
    const failure = await verifyEndMarker(this.context, this.sequence, marker)
    if (failure !== undefined) {
      this.failed = true
      throw reported(failure)
    }
    this.ended = true
  }

  /** Verifies and decrypts one sealed event, given as the JSON text it arrived as. */
  async open(text: string, name: string): Promise<Record<string, unknown>> {
    if (this.ended) throw tampered('carried an event after its end marker')
    const event = text.includes(EVENT_SEAL_KEY) ? parseJson(text) : undefined
    if (!isRecord(event) || !Object.hasOwn(event, EVENT_SEAL_KEY)) throw tampered('carried an unsealed event')
    const opened = await openEvent(this.stream.tree, event, this.context, this.sequence, name)
    this.sequence++
    return opened
  }

  /**
   * Opens one batch frame into `out`: the plain framing of the events it holds, which it counts.
   * At once on a synchronous backend, so a read of one frame costs no promise; otherwise the
   * promise of that step.
   */
  batch(frame: unknown, out: Uint8Array[]): Promise<void> | undefined {
    if (this.ended) throw tampered('carried an event after its end marker')
    const opened = openBatch(this.context, this.sequence, frame)
    if (!isPending(opened)) {
      this.sequence += opened.events
      out.push(opened.plaintext)
      return undefined
    }
    return opened.then(({ events, plaintext }) => {
      this.sequence += events
      out.push(plaintext)
    })
  }
}

/** The decoder reports a stream cut inside an event as an upstream abort; for the client it is a cut. */
function cut(error: unknown, state: StreamState): unknown {
  if (state.failed || !ContinuumError.isInstance(error) || error.code !== 'CONTINUUM_UPSTREAM_STREAM_ABORTED')
    return error
  return state.ended ? tampered('carried a partial event after its end marker') : truncated()
}

/** The client's side of one encrypted stream, a chunk at a time: bytes in, plain stream bytes out. */
class StreamOpener {
  readonly #state: StreamState
  readonly #batches: boolean
  readonly #sse: SseDecoder | undefined
  readonly #lines: LineDecoder | undefined

  constructor(stream: CompiledStream, context: CipherContext, batches: boolean) {
    this.#state = new StreamState(stream, context)
    this.#batches = batches
    if (stream.framing === 'sse') this.#sse = new SseDecoder()
    else this.#lines = new LineDecoder()
  }

  /** An error met after some events of a chunk: thrown once those events went out. */
  #failure: { error: unknown } | undefined

  get state(): StreamState {
    return this.#state
  }

  /** The plain bytes of the events this chunk completes (empty when none); promised only when a step was. */
  push(chunk: Uint8Array): MaybePromise<Uint8Array[]> {
    if (this.#failure !== undefined) throw this.#failure.error
    const items: readonly (SseEvent | string)[] =
      this.#sse !== undefined ? this.#sse.push(chunk) : this.#lines!.push(chunk)
    return this.#each(items, 0, [])
  }

  /** The rest at the end of the stream; throws when it ended without its end marker. */
  async end(): Promise<Uint8Array[]> {
    if (this.#failure !== undefined) throw this.#failure.error
    const out: Uint8Array[] = []
    try {
      const items: readonly (SseEvent | string)[] =
        this.#sse !== undefined ? this.#sse.end() : this.#lines!.end()
      await this.#each(items, 0, out)
      this.rethrow()
      if (!this.#state.ended) throw truncated()
    } catch (error) {
      return this.#failed(error, out)
    }
    return out
  }

  /** Throws the error met after the events last handed out, if any. */
  rethrow(): void {
    if (this.#failure !== undefined) throw this.#failure.error
  }

  /**
   * Handles `items` from `index` on, synchronously until a step answers with a promise, then
   * after it. Events verified before an error in the same chunk are passed on first, as they
   * would be one by one, and the error is kept for the next call.
   */
  #each(items: readonly (SseEvent | string)[], index: number, out: Uint8Array[]): MaybePromise<Uint8Array[]> {
    try {
      for (; index < items.length; index++) {
        const item = items[index]!
        const step = typeof item === 'string' ? this.#line(item, out) : this.#sseEvent(item, out)
        if (step !== undefined) {
          const next = index + 1
          return step.then(
            () => this.#each(items, next, out),
            (error: unknown) => this.#failed(error, out),
          )
        }
      }
    } catch (error) {
      return this.#failed(error, out)
    }
    return out
  }

  #failed(error: unknown, out: Uint8Array[]): Uint8Array[] {
    if (out.length === 0) throw error
    this.#failure = { error }
    return out
  }

  /** One SSE event; a promise when its step had to wait (an end marker, a per-event seal, WebCrypto). */
  #sseEvent(event: SseEvent, out: Uint8Array[]): Promise<void> | undefined {
    const state = this.#state
    if (this.#batches && event.event === BATCH_EVENT_NAME) {
      if (state.sentinel) throw tampered('carried an event after its terminal sentinel')
      return state.batch(parseBatchFrame(event.data), out)
    }
    return this.#otherSseEvent(event, out)
  }

  async #otherSseEvent(event: SseEvent, out: Uint8Array[]): Promise<void> {
    const state = this.#state
    const stream = state.stream
    if (event.event === END_EVENT_NAME) {
      await state.end(parseJson(event.data))
      return
    }
    if (stream.terminal !== undefined && event.data === stream.terminal && event.event === undefined) {
      // A terminal sentinel such as [DONE] is plain: honour it once, after a verified end marker.
      if (!state.ended) throw truncated()
      if (state.sentinel) throw tampered('carried a second terminal sentinel')
      state.sentinel = true
      out.push(encoder.encode(formatSse({ data: event.data })))
      return
    }
    if (state.sentinel) throw tampered('carried an event after its terminal sentinel')
    const name = event.event ?? ''
    const data = JSON.stringify(await state.open(event.data, name))
    out.push(encoder.encode(formatSse(name === '' ? { data } : { event: name, data })))
  }

  /** One NDJSON line; a promise when its step had to wait, as for an SSE event. */
  #line(line: string, out: Uint8Array[]): Promise<void> | undefined {
    if (line.trim() === '') return undefined
    const state = this.#state
    // parseBatchFrame answers undefined for text that is not JSON: parseNdjsonLine then says so.
    const value = (this.#batches ? parseBatchFrame(line) : undefined) ?? parseNdjsonLine(line)
    if (isRecord(value) && isEndMarker(value)) return state.end(value)
    if (this.#batches && isRecord(value) && isBatchFrame(value)) return state.batch(value, out)
    return this.#openedLine(line, out)
  }

  async #openedLine(line: string, out: Uint8Array[]): Promise<void> {
    out.push(encoder.encode(`${JSON.stringify(await this.#state.open(line, ''))}\n`))
  }
}

/** Options of {@link openStream}. */
export interface OpenStreamOptions {
  /**
   * Whether the request asked for batch frames (`x-continuum-batch: 1`); only then is one accepted.
   * @default false
   */
  batches?: boolean
}

/**
 * Verifies and decrypts an encrypted stream, yielding the plain stream bytes: one chunk for each
 * chunk received that completed events, so a read of many events costs one step here too.
 */
export async function* openStream(
  source: AsyncIterable<Uint8Array>,
  stream: CompiledStream,
  context: CipherContext,
  options: OpenStreamOptions = {},
): AsyncGenerator<Uint8Array> {
  const opener = new StreamOpener(stream, context, options.batches === true)
  try {
    for await (const chunk of source) {
      const pushed = opener.push(chunk)
      const out = isPending(pushed) ? await pushed : pushed
      if (out.length > 0) yield out.length === 1 ? out[0]! : concatBytes(...out)
      opener.rethrow()
    }
    const out = await opener.end()
    if (out.length > 0) yield out.length === 1 ? out[0]! : concatBytes(...out)
    opener.rethrow()
  } catch (error) {
    throw cut(error, opener.state)
  }
}
