/**
 * The wire body of an event stream (the stream path, loaded on the first streamed response): it
 * writes each upstream read's events through the frame writer, by the Node Readable's own events
 * when it can (wire-body.ts), and ends a failed stream with the writer's failure frame.
 */
import type { ContinuumError } from '../errors'
import type { StreamEvent } from '../protocol/stream-event'
import { isNodeReadable } from './body-reader'
import type { FrameWriter } from './frame-writer'
import type { RawEventSource } from './stream-events'
import { streamFailure } from './upstream-faults'
import { type ByteSink, drainInto, encoder, PIPE_TO, type PipeableBody, pump } from './wire-body'

/** The wire body of an event stream. */
export class EventStreamBody implements PipeableBody {
  readonly #raw: RawEventSource | undefined
  readonly #events: AsyncIterable<StreamEvent>
  readonly #writer: FrameWriter
  readonly #signal: AbortSignal
  readonly #done: (failure: ContinuumError | undefined) => void

  constructor(
    raw: RawEventSource | undefined,
    events: AsyncIterable<StreamEvent>,
    writer: FrameWriter,
    signal: AbortSignal,
    done: (failure: ContinuumError | undefined) => void,
  ) {
    this.#raw = raw
    this.#events = events
    this.#writer = writer
    this.#signal = signal
    this.#done = done
  }

  #failure(error: unknown): { failure: ContinuumError; text: string } | undefined {
    const failure = streamFailure(error, this.#signal)
    return failure === undefined ? undefined : { failure, text: this.#writer.failure(failure) }
  }

  [PIPE_TO](sink: ByteSink): Promise<void> {
    const raw = this.#raw
    if (raw === undefined || !isNodeReadable(raw.source)) return drainInto(this, sink)
    const writer = this.#writer
    return pump(
      raw.source,
      sink,
      {
        chunk: (chunk) => {
          const events = raw.decoder.push(chunk)
          return events.length === 0 ? undefined : writer.decoded(events)
        },
        end: () => {
          const events = raw.decoder.end()
          return (events.length === 0 ? '' : writer.decoded(events)) + writer.tail()
        },
        failure: (error) => this.#failure(error),
      },
      this.#done,
    )
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    const raw = this.#raw
    const writer = this.#writer
    let failure: ContinuumError | undefined
    try {
      if (raw !== undefined) {
        for await (const chunk of raw.source) {
          const events = raw.decoder.push(chunk)
          if (events.length > 0) yield encoder.encode(writer.decoded(events))
        }
        const events = raw.decoder.end()
        yield encoder.encode((events.length === 0 ? '' : writer.decoded(events)) + writer.tail())
      } else {
        for await (const event of this.#events) yield encoder.encode(writer.event(event))
        yield encoder.encode(writer.tail())
      }
    } catch (error) {
      const reported = this.#failure(error)
      failure = reported?.failure
      if (reported !== undefined) yield encoder.encode(reported.text)
    } finally {
      this.#done(failure)
    }
  }
}
