/**
 * Reads a request body within bounds and parses it as JSON. Every bound is checked before the
 * work it protects: the media type before a byte is read (415), the declared length and the
 * running total against the limit (413), the time between two chunks and the whole read against
 * the body timeouts (408, so a slow sender cannot hold a connection), UTF-8 before decoding
 * (nothing is silently replaced), and the nesting depth before anything recurses. On an early
 * refusal the rest of the body is left unread; the bindings close the connection after answering.
 */
import { PassThrough } from 'node:stream'
import type { CoreRequest, CoreRequestBody } from '../core/http'
import { ContinuumError } from '../errors'
import { mediaType } from './headers'
import { jsonTextTooDeep, jsonValueTooDeep } from './json-depth'

/** How a JSON request body is read; resolved once from the proxy options. */
export interface BodyReadOptions {
  /** Largest body, in bytes. */
  readonly limit: number
  /** Deepest nesting of arrays and objects. */
  readonly maxDepth: number
  /** Longest wait for the next chunk, in milliseconds. */
  readonly idleTimeoutMs: number
  /** Longest time for the whole body, in milliseconds. */
  readonly totalTimeoutMs: number
}

/** Time bounds of a streamed body. */
export interface BodyTimeouts {
  readonly idleTimeoutMs: number
  /** Omitted for streams that may legitimately take long (pass-through uploads). */
  readonly totalTimeoutMs?: number
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const ignore = (): void => {}

function tooLarge(limit: number): ContinuumError {
  return new ContinuumError('CONTINUUM_BODY_TOO_LARGE', `Request body is larger than ${limit} bytes`, {
    details: { limit },
  })
}

/** The error of a body that stalled (`idle`) or took too long (`total`). */
export function bodyTimeout(kind: 'idle' | 'total', milliseconds: number): ContinuumError {
  return new ContinuumError(
    'CONTINUUM_BODY_TIMEOUT',
    kind === 'idle'
      ? `Request body stalled for more than ${milliseconds} ms`
      : `Request body took more than ${milliseconds} ms`,
    { details: { timeout: kind, milliseconds } },
  )
}

function expire(milliseconds: number, kind: 'idle' | 'total'): { promise: Promise<never>; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(bodyTimeout(kind, milliseconds)), milliseconds)
  })
  // Raced, not awaited on every path: a rejection nobody waits for any more is not an error.
  promise.catch(() => undefined)
  return { promise, cancel: () => clearTimeout(timer) }
}

/**
 * Iterates a stream, failing with CONTINUUM_BODY_TIMEOUT when a chunk takes longer than the idle
 * timeout or the whole stream longer than the total timeout. On any early exit the source is
 * released (`return()`), which for a node request stops reading it.
 */
export async function* timedChunks(
  source: AsyncIterable<Uint8Array>,
  timeouts: BodyTimeouts,
): AsyncGenerator<Uint8Array> {
  const iterator = source[Symbol.asyncIterator]()
  const total = timeouts.totalTimeoutMs === undefined ? undefined : expire(timeouts.totalTimeoutMs, 'total')
  let finished = false
  try {
    for (;;) {
      const idle = expire(timeouts.idleTimeoutMs, 'idle')
      let result: IteratorResult<Uint8Array>
      try {
        const waits = [iterator.next(), idle.promise]
        if (total !== undefined) waits.push(total.promise)
        result = await Promise.race(waits)
      } finally {
        idle.cancel()
      }
      if (result.done === true) {
        finished = true
        return
      }
      yield result.value
    }
  } finally {
    total?.cancel()
    if (!finished) void Promise.resolve(iterator.return?.()).catch(() => undefined)
  }
}

/** The part of a Node Readable (a request, undici's body) the event-driven reader uses. */
interface NodeReadable {
  on(event: string, listener: (...args: never[]) => void): unknown
  removeListener(event: string, listener: (...args: never[]) => void): unknown
  pause(): unknown
  resume(): unknown
}

/** Whether a body stream is a Node Readable, which is read by its events (no promise per chunk). */
export function isNodeReadable(stream: unknown): stream is NodeReadable & AsyncIterable<Uint8Array> {
  const candidate = stream as Partial<NodeReadable> | null
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.on === 'function' &&
    typeof candidate.removeListener === 'function' &&
    typeof candidate.pause === 'function' &&
    typeof candidate.resume === 'function'
  )
}

/**
 * Follows a Node Readable to its end by its events: `onData` gets each chunk, `done` is told once
 * how it ended, with nothing for its end or with the failure ('close' before 'end' is the sender
 * gone mid-body). `stop()` stops following: every listener goes, and `done` is not called.
 * Reading starts when the caller resumes the stream. A class whose listeners are its own methods,
 * bound once a read: bound functions, not the named closures that in the built package each cost
 * a `__name` call (its `keepNames`).
 */
class Following {
  readonly #stream: NodeReadable
  readonly #data: (chunk: Buffer) => void
  readonly #done: (error?: Error) => void
  readonly #end = this.#onEnd.bind(this)
  readonly #error = this.#onError.bind(this)
  readonly #close = this.#onClose.bind(this)

  constructor(stream: NodeReadable, onData: (chunk: Buffer) => void, done: (error?: Error) => void) {
    this.#stream = stream
    this.#data = onData
    this.#done = done
    stream.on('data', onData)
    stream.on('end', this.#end)
    stream.on('error', this.#error)
    stream.on('close', this.#close)
  }

  stop(): void {
    const stream = this.#stream
    stream.removeListener('data', this.#data)
    stream.removeListener('end', this.#end)
    stream.removeListener('error', this.#error)
    stream.removeListener('close', this.#close)
  }

  #onEnd(): void {
    this.stop()
    this.#done()
  }

  #onError(error: Error): void {
    this.stop()
    this.#done(error)
  }

  #onClose(): void {
    this.stop()
    this.#done(new Error('body stream closed before its end'))
  }
}

/**
 * A pass-through upload from a Node Readable, for the upstream to write as a stream: the chunks go
 * through a PassThrough (undici writes that from its events, with backpressure back to the
 * client), and one idle timer, re-armed per chunk, fails it with CONTINUUM_BODY_TIMEOUT when the
 * client stalls. Unlike {@link timedChunks}, no promise, race or timer is made per chunk.
 */
export function idleGuardedUpload(source: NodeReadable, idleTimeoutMs: number): PassThrough {
  const through = new PassThrough()
  // The upload's failure reaches the upstream request while it reads; once it no longer does
  // (it was answered or aborted), an 'error' with no listener would be an uncaught exception:
  // a client hanging up mid-upload must not be able to crash the process.
  through.on('error', ignore)
  let over = false
  const stop = (error?: Error): void => {
    if (over) return
    over = true
    clearTimeout(idle)
    following.stop()
    // Whatever the source still reports (a reset after a refusal) is already answered.
    source.on('error', ignore)
    through.removeListener('drain', onDrain)
    through.removeListener('close', onThroughClose)
    if (error === undefined) through.end()
    else {
      // A stalled or broken upload: the binding discards the rest and closes the connection.
      source.pause()
      through.destroy(error)
    }
  }
  const idle = setTimeout(() => stop(bodyTimeout('idle', idleTimeoutMs)), idleTimeoutMs)
  const following = new Following(
    source,
    (chunk) => {
      idle.refresh()
      if (!through.write(chunk)) source.pause()
    },
    stop,
  )
  const onDrain = (): void => {
    source.resume()
  }
  // The upstream request ended (answered early, or failed): stop reading for it.
  const onThroughClose = (): void => stop(new Error('upload no longer read'))
  through.on('drain', onDrain)
  through.on('close', onThroughClose)
  source.resume()
  return through
}

/**
 * Reads a Node Readable to its end by its events: one timer per bound, re-armed per chunk rather
 * than created, and no promise per chunk. On a refusal the stream is only paused and left: the
 * binding discards the rest and closes the connection once the answer is out.
 */
function readNodeStream(stream: NodeReadable, limit: number, timeouts?: BodyTimeouts): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = []
    let total = 0
    let idle: ReturnType<typeof setTimeout> | undefined
    let whole: ReturnType<typeof setTimeout> | undefined
    const settle = (error?: Error): void => {
      clearTimeout(idle)
      clearTimeout(whole)
      following.stop()
      if (error === undefined) resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total))
      else {
        stream.pause()
        reject(error)
      }
    }
    const following = new Following(
      stream,
      (chunk) => {
        total += chunk.byteLength
        if (total > limit) {
          settle(tooLarge(limit))
          return
        }
        chunks.push(chunk)
        idle?.refresh()
      },
      settle,
    )
    if (timeouts !== undefined) {
      idle = setTimeout(() => settle(bodyTimeout('idle', timeouts.idleTimeoutMs)), timeouts.idleTimeoutMs)
      if (timeouts.totalTimeoutMs !== undefined) {
        const totalMs = timeouts.totalTimeoutMs
        whole = setTimeout(() => settle(bodyTimeout('total', totalMs)), totalMs)
      }
    }
    stream.resume()
  })
}

/** Reads the raw bytes of a body, refusing more than `limit` bytes, within the timeouts when given. */
export async function readBodyBytes(
  body: CoreRequestBody,
  limit: number,
  declaredLength?: string,
  timeouts?: BodyTimeouts,
): Promise<Buffer> {
  if (declaredLength !== undefined && Number(declaredLength) > limit) throw tooLarge(limit)
  switch (body.kind) {
    case 'empty':
      return Buffer.alloc(0)
    case 'bytes':
      if (body.bytes.byteLength > limit) throw tooLarge(limit)
      return Buffer.from(body.bytes.buffer, body.bytes.byteOffset, body.bytes.byteLength)
    case 'parsed':
      return Buffer.from(JSON.stringify(body.value) ?? '')
    case 'stream': {
      if (isNodeReadable(body.stream)) return readNodeStream(body.stream, limit, timeouts)
      const chunks: Buffer[] = []
      let total = 0
      const source = timeouts === undefined ? body.stream : timedChunks(body.stream, timeouts)
      for await (const chunk of source) {
        total += chunk.byteLength
        if (total > limit) throw tooLarge(limit)
        chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))
      }
      return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total)
    }
  }
}

/** Refuses (415) a body that does not declare JSON, or declares a charset other than UTF-8. */
function assertJsonMediaType(contentType: string | undefined): void {
  if (contentType === 'application/json') return
  const type = mediaType(contentType)
  const json = type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'))
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(contentType ?? '')?.[1]?.toLowerCase()
  if (json && (charset === undefined || charset === 'utf-8' || charset === 'utf8')) return
  throw new ContinuumError(
    'CONTINUUM_UNSUPPORTED_MEDIA_TYPE',
    json ? 'Request body must be UTF-8 JSON' : 'Request body must be application/json',
    { details: { expected: 'application/json' } },
  )
}

function tooDeep(maxDepth: number): ContinuumError {
  return new ContinuumError('CONTINUUM_JSON_TOO_DEEP', `Request JSON nests deeper than ${maxDepth} levels`, {
    details: { maxDepth },
  })
}

/** A parsed JSON request body, with the bytes it was parsed from (none for a framework-parsed body). */
export interface JsonBody {
  readonly value: unknown
  readonly bytes: Buffer | undefined
}

/** Reads and parses the JSON body of a request; a framework-parsed body is checked and used as it is. */
export async function readJsonBody(request: CoreRequest, options: BodyReadOptions): Promise<JsonBody> {
  assertJsonMediaType(request.headers['content-type'])
  const body = request.body
  if (body.kind === 'parsed') {
    if (jsonValueTooDeep(body.value, options.maxDepth)) throw tooDeep(options.maxDepth)
    return { value: body.value, bytes: undefined }
  }
  let bytes: Buffer
  try {
    bytes = await readBodyBytes(body, options.limit, request.headers['content-length'], options)
  } catch (error) {
    if (ContinuumError.isInstance(error)) throw error
    // A request stream only fails when the client goes away mid-upload: not a server fault.
    throw new ContinuumError(
      'CONTINUUM_CLIENT_ABORTED',
      'Client closed the connection while sending the body',
      {
        cause: error,
      },
    )
  }
  let text: string
  try {
    text = utf8.decode(bytes)
  } catch {
    throw new ContinuumError('CONTINUUM_INVALID_UTF8', 'Request body is not valid UTF-8')
  }
  if (jsonTextTooDeep(bytes, options.maxDepth)) throw tooDeep(options.maxDepth)
  try {
    return { value: JSON.parse(text), bytes }
  } catch (error) {
    throw new ContinuumError('CONTINUUM_INVALID_JSON', 'Request body is not valid JSON', { cause: error })
  }
}
