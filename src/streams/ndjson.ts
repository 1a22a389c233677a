/**
 * Newline-delimited JSON framing (`application/x-ndjson`), as Ollama streams: one JSON value per
 * line. Blank lines are skipped; a line that is not JSON raises a protocol error rather than being
 * passed on half-understood.
 */
import { ContinuumError } from '../errors'
import { type LineSplitterOptions, splitLines } from './line-splitter'

/** Parses an NDJSON byte stream into values. */
export async function* parseNdjson(
  source: AsyncIterable<Uint8Array>,
  options: LineSplitterOptions = {},
): AsyncGenerator<unknown> {
  for await (const line of splitLines(source, options)) {
    if (line.trim() === '') continue
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch (error) {
      throw new ContinuumError('CONTINUUM_UPSTREAM_PROTOCOL_ERROR', 'Stream line is not valid JSON', {
        cause: error,
      })
    }
    yield value
  }
}

/** Serializes one value as an NDJSON line. */
export function formatNdjson(value: unknown): string {
  return `${JSON.stringify(value)}\n`
}
