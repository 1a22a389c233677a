/**
 * What an event stream becomes on the wire, a read at a time. On an encrypted exchange each event
 * is field-encrypted and sealed with its sequence number, or, for a client that asked for batches
 * (`x-continuum-batch: 1`), the events of one upstream read go into one batch frame; after the
 * last event comes the authenticated end marker, before the protocol's terminal sentinel (or at
 * the end), and a stream that fails ends with a sealed failure marker naming the error. A plain
 * stream is framed the same way without the cipher, and fails with the protocol's error event.
 * Events the upstream sent are framed from the text they arrived as; events a stage produced are
 * serialised. Facts for telemetry and audit are read here, once per event.
 */
import type { CipherContext } from '../cipher/field-cipher'
import { BATCH_EVENT_NAME, END_EVENT_NAME } from '../cipher/format'
import { endMarker, failureMarker, sealEventText } from '../cipher/message-codec'
import { sealBatch } from '../cipher/stream-batch'
import type { ContinuumError } from '../errors'
import type { CompiledStream } from '../protocol/compiled-route'
import type { StreamEvent } from '../protocol/stream-event'
import { plainFailureFrame, plainFrame, stringify, unwritable } from './plain-frame'
import type { DecodedEvent } from './stream-events'

/** How the events of one stream are written; one per stream, it keeps the sequence count. */
export class FrameWriter {
  readonly #stream: CompiledStream
  readonly #cipher: CipherContext | undefined
  readonly #batch: boolean
  readonly #facts: ((event: Record<string, unknown>) => void) | undefined
  /** Called before the first event is written (time-to-first-token), then dropped. */
  #firstEvent: (() => void) | undefined
  /** Events written so far: the next event's sequence number. */
  #sequence = 0

  constructor(
    stream: CompiledStream,
    cipher: CipherContext | undefined,
    batch: boolean,
    facts: ((event: Record<string, unknown>) => void) | undefined,
    firstEvent?: (() => void) | undefined,
  ) {
    this.#stream = stream
    this.#cipher = cipher
    this.#batch = batch && cipher !== undefined
    this.#facts = facts
    this.#firstEvent = firstEvent
  }

  #started(): void {
    const firstEvent = this.#firstEvent
    if (firstEvent === undefined) return
    this.#firstEvent = undefined
    firstEvent()
  }

  /** The wire text of the events one upstream read completed, framed from the text they arrived as. */
  decoded(events: readonly DecodedEvent[]): string {
    if (this.#firstEvent !== undefined) this.#started()
    const framing = this.#stream.framing
    const facts = this.#facts
    if (facts !== undefined) for (const event of events) facts(event.data)
    const cipher = this.#cipher
    let plain = ''
    if (cipher === undefined || this.#batch) {
      for (const event of events) plain += plainFrame(framing, event.name, event.text)
      if (cipher === undefined) return plain
      return this.#batchFrame(cipher, events.length, plain)
    }
    // All of the read's events or none: a failure marker then counts exactly what went out.
    const first = this.#sequence
    let text = ''
    try {
      for (const event of events) text += this.#sealed(cipher, event.data, event.name)
    } catch (error) {
      this.#sequence = first
      throw error
    }
    return text
  }

  /** The wire text of one event a stage handed over (an object that may have been rewritten). */
  event(event: StreamEvent): string {
    if (this.#firstEvent !== undefined) this.#started()
    this.#facts?.(event.data)
    const name = event.name === '' ? undefined : event.name
    const cipher = this.#cipher
    if (cipher === undefined) return plainFrame(this.#stream.framing, name, stringify(event.data))
    if (this.#batch)
      return this.#batchFrame(cipher, 1, plainFrame(this.#stream.framing, name, stringify(event.data)))
    return this.#sealed(cipher, event.data, name)
  }

  /** What follows the last event: the end marker and the protocol's terminal sentinel. */
  tail(): string {
    let tail = ''
    const cipher = this.#cipher
    if (cipher !== undefined) {
      tail += this.#marker(JSON.stringify(endMarker(cipher, this.#sequence)))
    }
    if (this.#stream.framing === 'sse' && this.#stream.terminal !== undefined)
      tail += `data: ${this.#stream.terminal}\n\n`
    return tail
  }

  /**
   * What ends a failed stream: for an encrypted client a sealed failure marker carrying the code
   * (so an on-path attacker can neither forge a failure nor pass a cut stream for a whole one),
   * for a plain one the protocol's own error event. `cut` says the failure may fall mid-frame of
   * relayed bytes, so a blank line closes any partial SSE event first.
   */
  failure(failure: ContinuumError, cut = false): string {
    const cipher = this.#cipher
    if (cipher === undefined) return plainFailureFrame(this.#stream, failure, cut)
    return this.#marker(JSON.stringify(failureMarker(cipher, this.#sequence, failure)))
  }

  #marker(marker: string): string {
    return this.#stream.framing === 'sse' ? `event: ${END_EVENT_NAME}\ndata: ${marker}\n\n` : `${marker}\n`
  }

  #batchFrame(cipher: CipherContext, count: number, plaintext: string): string {
    const frame = sealBatch(cipher, this.#sequence, count, plaintext)
    this.#sequence += count
    return this.#stream.framing === 'sse' ? `event: ${BATCH_EVENT_NAME}\ndata: ${frame}\n\n` : `${frame}\n`
  }

  #sealed(cipher: CipherContext, data: Record<string, unknown>, name: string | undefined): string {
    let text: string
    try {
      text = sealEventText(this.#stream.tree, data, cipher, this.#sequence, name ?? '')
    } catch (error) {
      throw unwritable(error)
    }
    this.#sequence++
    return plainFrame(this.#stream.framing, name, text)
  }
}
