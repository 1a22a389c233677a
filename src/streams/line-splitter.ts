/**
 * Splits a byte stream into text lines, the common first step of SSE and NDJSON framing. Accepts
 * `\n`, `\r\n` and a lone `\r` as terminators, wherever chunk boundaries fall, and refuses lines
 * longer than a bound so a peer that never sends a newline cannot grow memory without limit. The
 * decoder is synchronous and incremental, so callers can handle every line of one network chunk
 * together (one write per chunk instead of one per event).
 */
import { ContinuumError } from '../errors'

/** Options of {@link splitLines} and {@link LineDecoder}. */
export interface LineSplitterOptions {
  /**
   * Longest line accepted, in UTF-16 code units; longer lines raise CONTINUUM_UPSTREAM_PROTOCOL_ERROR.
   * @default 8388608 (8 MiB)
   */
  maxLineLength?: number
}

const DEFAULT_MAX_LINE_LENGTH = 8 * 1024 * 1024

/** An incremental, synchronous line decoder over UTF-8 bytes. */
export class LineDecoder {
  readonly #decoder = new TextDecoder('utf-8')
  readonly #maxLineLength: number
  #pending = ''
  // A chunk that ended on '\r' may be followed by '\n' in the next chunk: skip that '\n'.
  #skipLeadingNewline = false

  constructor(options: LineSplitterOptions = {}) {
    this.#maxLineLength = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH
  }

  /** The complete lines of this chunk (without terminators), in order. */
  push(chunk: Uint8Array): string[] {
    const text = this.#pending + this.#decoder.decode(chunk, { stream: true })
    const lines: string[] = []
    let start = 0
    if (this.#skipLeadingNewline && text.charCodeAt(0) === 10) start = 1
    this.#skipLeadingNewline = false
    for (let index = start; index < text.length; index++) {
      const code = text.charCodeAt(index)
      if (code !== 10 && code !== 13) continue
      lines.push(text.slice(start, index))
      if (code === 13) {
        if (index + 1 === text.length) this.#skipLeadingNewline = true
        else if (text.charCodeAt(index + 1) === 10) index++
      }
      start = index + 1
    }
    this.#pending = text.slice(start)
    if (this.#pending.length > this.#maxLineLength) {
      throw new ContinuumError(
        'CONTINUUM_UPSTREAM_PROTOCOL_ERROR',
        `Stream line longer than ${this.#maxLineLength} characters`,
      )
    }
    return lines
  }

  /** The final unterminated line, if any. */
  end(): string[] {
    const rest = this.#pending + this.#decoder.decode()
    this.#pending = ''
    return rest.length > 0 ? [rest] : []
  }
}

/** Yields each line of a UTF-8 byte stream without its terminator; a final unterminated line is yielded too. */
export async function* splitLines(
  source: AsyncIterable<Uint8Array>,
  options: LineSplitterOptions = {},
): AsyncGenerator<string> {
  const decoder = new LineDecoder(options)
  for await (const chunk of source) yield* decoder.push(chunk)
  yield* decoder.end()
}
