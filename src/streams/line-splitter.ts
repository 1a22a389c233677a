/**
 * Splits a byte stream into text lines, the common first step of SSE and NDJSON framing. Accepts
 * `\n`, `\r\n` and a lone `\r` as terminators, wherever chunk boundaries fall (a `\r` that ends
 * one chunk and a `\n` that starts a later one are one terminator, however many empty chunks
 * come between). Time is linear in the input: each chunk is scanned once and a line spread over
 * many chunks is kept as its pieces, joined once when it ends. Lines longer than a bound are
 * refused, so a peer that never sends a newline cannot grow memory without limit, and bytes that
 * are not UTF-8 are refused rather than replaced. The decoder is synchronous and incremental, so
 * callers can handle every line of one network chunk together (one write per chunk).
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
const LF = 10
const CR = 13

/** Validates a positive integer bound of a decoder. */
export function bound(value: number | undefined, fallback: number, name: string): number {
  const resolved = value ?? fallback
  if (!Number.isSafeInteger(resolved) || resolved < 1) {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', `${name} must be a positive integer`)
  }
  return resolved
}

/** An incremental, synchronous line decoder over UTF-8 bytes. */
export class LineDecoder {
  readonly #decoder = new TextDecoder('utf-8', { fatal: true })
  readonly #maxLineLength: number
  /** Pieces of the line not yet terminated, and their total length. */
  #pending: string[] = []
  #pendingLength = 0
  // A chunk that ended on '\r' may be followed by '\n' in the next non-empty chunk: skip that '\n'.
  #skipLeadingNewline = false

  constructor(options: LineSplitterOptions = {}) {
    this.#maxLineLength = bound(options.maxLineLength, DEFAULT_MAX_LINE_LENGTH, 'maxLineLength')
  }

  #decode(chunk: Uint8Array | undefined): string {
    try {
      return chunk === undefined ? this.#decoder.decode() : this.#decoder.decode(chunk, { stream: true })
    } catch (error) {
      throw new ContinuumError('CONTINUUM_UPSTREAM_PROTOCOL_ERROR', 'Stream is not valid UTF-8', {
        cause: error,
      })
    }
  }

  #tooLong(): ContinuumError {
    return new ContinuumError(
      'CONTINUUM_UPSTREAM_PROTOCOL_ERROR',
      `Stream line longer than ${this.#maxLineLength} characters`,
      { details: { limit: this.#maxLineLength } },
    )
  }

  /** The complete lines of this chunk (without terminators), in order. */
  push(chunk: Uint8Array): string[] {
    const text = this.#decode(chunk)
    const lines: string[] = []
    // An empty chunk (or one that decodes to nothing yet) changes no state.
    if (text.length === 0) return lines
    let start = 0
    if (this.#skipLeadingNewline) {
      this.#skipLeadingNewline = false
      if (text.charCodeAt(0) === LF) start = 1
    }
    let lf = text.indexOf('\n', start)
    let cr = text.indexOf('\r', start)
    while (lf !== -1 || cr !== -1) {
      const end = cr === -1 ? lf : lf === -1 ? cr : Math.min(lf, cr)
      if (this.#pendingLength + end - start > this.#maxLineLength) throw this.#tooLong()
      let line = text.slice(start, end)
      if (this.#pending.length > 0) {
        this.#pending.push(line)
        line = this.#pending.join('')
        this.#pending = []
        this.#pendingLength = 0
      }
      lines.push(line)
      start = end + 1
      if (text.charCodeAt(end) === CR) {
        if (start === text.length) this.#skipLeadingNewline = true
        else if (text.charCodeAt(start) === LF) start++
      }
      if (lf !== -1 && lf < start) lf = text.indexOf('\n', start)
      if (cr !== -1 && cr < start) cr = text.indexOf('\r', start)
    }
    if (start < text.length) {
      this.#pendingLength += text.length - start
      if (this.#pendingLength > this.#maxLineLength) throw this.#tooLong()
      this.#pending.push(start === 0 ? text : text.slice(start))
    }
    return lines
  }

  /** The final unterminated line, if any (its terminator never came: the caller decides what that means). */
  end(): string[] {
    const rest = this.#pending.join('') + this.#decode(undefined)
    this.#pending = []
    this.#pendingLength = 0
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
