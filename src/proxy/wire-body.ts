/**
 * Streamed response bodies as the encoder hands them to a binding. Each is an
 * AsyncIterable<Uint8Array> (the CoreResponse contract: one chunk per upstream read), and each also
 * offers to write itself into a Node-style writable (`[PIPE_TO](sink)`), which is how the Node
 * bindings write it: when the upstream body is a Node Readable, every read is decoded, sealed and
 * written from the Readable's own `data` event, with `pause()`/`drain` for backpressure, so a
 * streamed token costs no promise and no async-generator step. A client that goes away destroys
 * the upstream body; a failure ends the stream with the writer's failure frame. The event-stream
 * body is in event-stream-body.ts, part of the stream path loaded on the first streamed response;
 * this file holds the pump both use and the relayed plain body, which every proxy needs.
 */
import type { ContinuumError } from '../errors'
import { isNodeReadable } from './body-reader'
import { streamFailure } from './upstream-faults'

/** The key of a body's pipe method; `Symbol.for`, so bindings find it across package copies. */
export const PIPE_TO: unique symbol = Symbol.for('continuum-proxy.pipe-to') as never

/** The part of a writable (node's ServerResponse) a piped body writes to. */
export interface ByteSink {
  /** Writes a chunk; `false` asks the writer to wait for `drain`. */
  write(chunk: string | Uint8Array): boolean
  end(chunk?: string | Uint8Array): unknown
  destroy(error?: Error): unknown
  once(event: 'drain' | 'close', listener: () => void): unknown
  removeListener(event: 'drain' | 'close', listener: () => void): unknown
  readonly destroyed: boolean
}

/** A body that can write itself into a sink; resolves once it ended or the sink closed. */
export interface PipeableBody extends AsyncIterable<Uint8Array> {
  [PIPE_TO](sink: ByteSink): Promise<void>
}

export const encoder = new TextEncoder()
const ignore = (): void => {}

interface Destroyable {
  destroy?(error?: Error): unknown
  /** Node Readables: set once destroyed, with the error it was destroyed by. */
  readonly destroyed?: boolean
  readonly errored?: Error | null
}

/** Writes an iterable body into a sink with backpressure: the path for sources that are not Node Readables. */
export async function drainInto(body: AsyncIterable<Uint8Array>, sink: ByteSink): Promise<void> {
  try {
    for await (const chunk of body) {
      if (sink.destroyed) break
      if (!sink.write(chunk)) await drainOrClose(sink)
    }
    if (!sink.destroyed) sink.end()
  } catch (error) {
    sink.destroy(error as Error)
  }
}

/**
 * Resolves on the next `drain` or `close`, removing both listeners either way. (Racing two
 * `events.once()` calls would leave the loser's listeners behind: one more per wait, thousands
 * on a long stream.)
 */
function drainOrClose(sink: ByteSink): Promise<void> {
  return new Promise((resolve) => {
    const settle = (): void => {
      sink.removeListener('drain', settle)
      sink.removeListener('close', settle)
      resolve()
    }
    sink.once('drain', settle)
    sink.once('close', settle)
  })
}

/**
 * Runs a Node Readable into a sink by its events. `onChunk` turns a chunk into what to write
 * (possibly nothing), `onEnd` into the last words, `onFailure` into the failure frame (undefined:
 * the client left, or there is no frame to write, and the sink is destroyed). `done` hears the
 * failure once, after the last byte.
 */
export function pump(
  source: Destroyable & { on(event: string, listener: (...args: never[]) => void): unknown } & {
    removeListener(event: string, listener: (...args: never[]) => void): unknown
    pause(): unknown
    resume(): unknown
  },
  sink: ByteSink,
  handlers: {
    chunk(chunk: Uint8Array): string | Uint8Array | undefined
    end(): string | undefined
    failure(error: unknown): { failure: ContinuumError; text: string | undefined } | undefined
  },
  done: (failure: ContinuumError | undefined) => void,
): Promise<void> {
  return new Promise<void>((resolve) => {
    let over = false
    let waiting = false
    const finish = (failure: ContinuumError | undefined): void => {
      over = true
      source.removeListener('data', onData)
      source.removeListener('end', onEnd)
      source.removeListener('error', onError)
      source.removeListener('close', onSourceClose)
      sink.removeListener('drain', onDrain)
      sink.removeListener('close', onSinkClose)
      try {
        done(failure)
      } finally {
        resolve()
      }
    }
    // A destroyed body reports its abort as an error after our listeners are gone.
    const discard = (): void => {
      source.on('error', ignore)
      source.destroy?.()
    }
    const fail = (error: unknown): void => {
      if (over) return
      discard()
      const reported = sink.destroyed ? undefined : handlers.failure(error)
      if (reported?.text === undefined) sink.destroy()
      else sink.end(reported.text)
      finish(reported?.failure)
    }
    const onData = (chunk: Uint8Array): void => {
      if (over) return
      let text: string | Uint8Array | undefined
      try {
        text = handlers.chunk(chunk)
      } catch (error) {
        fail(error)
        return
      }
      if (text === undefined || text.length === 0) return
      if (!sink.write(text) && !waiting) {
        waiting = true
        source.pause()
        sink.once('drain', onDrain)
      }
    }
    const onDrain = (): void => {
      waiting = false
      source.resume()
    }
    const onEnd = (): void => {
      if (over) return
      let text: string | undefined
      try {
        text = handlers.end()
      } catch (error) {
        fail(error)
        return
      }
      if (text === undefined || text === '') sink.end()
      else sink.end(text)
      finish(undefined)
    }
    const onError = (error: Error): void => fail(error)
    const onSourceClose = (): void => fail(new Error('upstream body closed before its end'))
    // The client went away: stop reading the upstream; nobody is left to tell.
    const onSinkClose = (): void => {
      if (over) return
      discard()
      finish(undefined)
    }
    // A body destroyed before the pump began (the upstream cut it while it waited unread) has
    // sent its 'error' and 'close' already and sends nothing more: waiting on them would hang.
    if (source.destroyed) {
      if (source.errored) onError(source.errored)
      else onSourceClose()
      return
    }
    source.on('data', onData)
    source.on('end', onEnd)
    source.on('error', onError)
    source.on('close', onSourceClose)
    sink.once('close', onSinkClose)
    source.resume()
  })
}

/** Plain bytes relayed untouched, with the protocol's error frame appended if the upstream breaks off. */
export class RelayedBody implements PipeableBody {
  readonly #source: AsyncIterable<Uint8Array>
  readonly #failureFrame: ((failure: ContinuumError) => string) | undefined
  readonly #signal: AbortSignal
  readonly #done: (failure: ContinuumError | undefined) => void

  constructor(
    source: AsyncIterable<Uint8Array>,
    failureFrame: ((failure: ContinuumError) => string) | undefined,
    signal: AbortSignal,
    done: (failure: ContinuumError | undefined) => void,
  ) {
    this.#source = source
    this.#failureFrame = failureFrame
    this.#signal = signal
    this.#done = done
  }

  #failure(error: unknown): { failure: ContinuumError; text: string | undefined } | undefined {
    const failure = streamFailure(error, this.#signal)
    if (failure === undefined) return undefined
    // Off a stream route there is no frame to write: the connection is cut instead.
    return { failure, text: this.#failureFrame?.(failure) }
  }

  [PIPE_TO](sink: ByteSink): Promise<void> {
    const source = this.#source
    if (!isNodeReadable(source)) return drainInto(this, sink)
    return pump(
      source,
      sink,
      { chunk: (chunk) => chunk, end: () => undefined, failure: (error) => this.#failure(error) },
      this.#done,
    )
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    let failure: ContinuumError | undefined
    try {
      for await (const chunk of this.#source) yield chunk
    } catch (error) {
      const reported = this.#failure(error)
      failure = reported?.failure
      if (reported?.text === undefined) throw error
      yield encoder.encode(reported.text)
    } finally {
      this.#done(failure)
    }
  }
}
