/**
 * Splits a byte stream into text lines, the common first step of SSE and NDJSON framing. Accepts
 * `\n`, `\r\n` and a lone `\r` as terminators, wherever chunk boundaries fall, and refuses lines
 * longer than a bound so a peer that never sends a newline cannot grow memory without limit.
 */
import { ContinuumError } from '../errors'

/** Options of {@link splitLines}. */
export interface LineSplitterOptions {
  /**
   * Longest line accepted, in UTF-16 code units; longer lines raise CONTINUUM_UPSTREAM_PROTOCOL_ERROR.
   * @default 8388608 (8 MiB)
   */
  maxLineLength?: number
}

const DEFAULT_MAX_LINE_LENGTH = 8 * 1024 * 1024

/** Yields each line of a UTF-8 byte stream without its terminator; a final unterminated line is yielded too. */
export async function* splitLines(
  source: AsyncIterable<Uint8Array>,
  options: LineSplitterOptions = {},
): AsyncGenerator<string> {
  const maxLineLength = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH
  const decoder = new TextDecoder('utf-8', { fatal: false })
  let pending = ''
  // A chunk that ended on '\r' may be followed by '\n' in the next chunk: skip that '\n'.
  let skipLeadingNewline = false

  for await (const chunk of source) {
    let text = pending + decoder.decode(chunk, { stream: true })
    pending = ''
    let start = 0
    if (skipLeadingNewline && text.charCodeAt(0) === 10) start = 1
    skipLeadingNewline = false
    for (let index = start; index < text.length; index++) {
      const code = text.charCodeAt(index)
      if (code !== 10 && code !== 13) continue
      yield text.slice(start, index)
      if (code === 13) {
        if (index + 1 === text.length) skipLeadingNewline = true
        else if (text.charCodeAt(index + 1) === 10) index++
      }
      start = index + 1
    }
    text = text.slice(start)
    if (text.length > maxLineLength) {
      throw new ContinuumError(
        'CONTINUUM_UPSTREAM_PROTOCOL_ERROR',
        `Stream line longer than ${maxLineLength} characters`,
      )
    }
    pending = text
  }
  pending += decoder.decode()
  if (pending.length > 0) yield pending
}
