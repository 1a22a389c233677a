/**
 * Newline-delimited JSON framing (`application/x-ndjson`), as Ollama streams: one JSON value per
 * line. Blank lines are skipped; a line that is not JSON raises a protocol error rather than being
 * passed on half-understood.
 */
import { ContinuumError } from '../errors'
import { LineDecoder, type LineSplitterOptions } from './line-splitter'

/** Parses one NDJSON line; throws CONTINUUM_UPSTREAM_PROTOCOL_ERROR when it is not JSON. */
export function parseNdjsonLine(line: string): unknown {
  try {
    return JSON.parse(line)
  } catch {
    // No cause: V8's SyntaxError quotes the line around where it stopped, and that is content.
    throw new ContinuumError('CONTINUUM_UPSTREAM_PROTOCOL_ERROR', 'Stream line is not valid JSON')
  }
}

/** An incremental, synchronous NDJSON decoder. */
export class NdjsonDecoder {
  readonly #lines: LineDecoder

  constructor(options: LineSplitterOptions = {}) {
    this.#lines = new LineDecoder(options)
  }

  /** The values completed by this chunk. */
  push(chunk: Uint8Array): unknown[] {
    return this.#lines
      .push(chunk)
      .filter((line) => line.trim() !== '')
      .map(parseNdjsonLine)
  }

  /** The value of a last line without its newline. */
  end(): unknown[] {
    return this.#lines
      .end()
      .filter((line) => line.trim() !== '')
      .map(parseNdjsonLine)
  }
}

/** Parses an NDJSON byte stream into values. */
export async function* parseNdjson(
  source: AsyncIterable<Uint8Array>,
  options: LineSplitterOptions = {},
): AsyncGenerator<unknown> {
  const decoder = new NdjsonDecoder(options)
  for await (const chunk of source) yield* decoder.push(chunk)
  yield* decoder.end()
}

/** Serializes one value as an NDJSON line. */
export function formatNdjson(value: unknown): string {
  return `${JSON.stringify(value)}\n`
}
