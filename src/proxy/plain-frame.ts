/**
 * Plain wire text that both the eager path and the stream path write: JSON that cannot be
 * written reported as the upstream's fault, one event in a protocol's plain framing, and the
 * protocol's error event that ends a failed plain stream. A relayed plain body needs only these
 * (for the frame it appends when the upstream breaks off), so it does not load the stream path.
 */
import { ContinuumError } from '../errors'
import type { CompiledStream } from '../protocol/compiled-route'
import { formatSse } from '../streams/sse-format'

/**
 * What the upstream's content becomes when it cannot go on the wire faithfully: a value with no
 * RFC 8785 form cannot be sealed, and one nested too deep for JSON.stringify cannot be written.
 * Either is the upstream breaking its protocol (502), not a fault of the proxy or the client.
 */
export function unwritable(error: unknown): unknown {
  const nonCanonical = ContinuumError.isInstance(error) && error.code === 'CONTINUUM_NON_CANONICAL_JSON'
  if (!nonCanonical && !(error instanceof RangeError)) return error
  return new ContinuumError(
    'CONTINUUM_UPSTREAM_PROTOCOL_ERROR',
    nonCanonical
      ? 'Upstream answered with a JSON value that cannot be sealed (no RFC 8785 form)'
      : 'Upstream answered with JSON nested too deep to relay',
    { cause: error },
  )
}

/** JSON.stringify, with what it cannot write reported as the upstream's fault. */
export function stringify(value: unknown): string {
  try {
    return JSON.stringify(value)
  } catch (error) {
    throw unwritable(error)
  }
}

/** One event in the protocol's plain framing. */
export function plainFrame(
  framing: CompiledStream['framing'],
  name: string | undefined,
  data: string,
): string {
  if (framing === 'ndjson') return `${data}\n`
  if (data.includes('\n') || data.includes('\r'))
    return formatSse(name === undefined ? { data } : { event: name, data })
  return name === undefined ? `data: ${data}\n\n` : `event: ${name}\ndata: ${data}\n\n`
}

/**
 * The protocol's own error event that ends a failed plain stream. `cut` says the failure may fall
 * mid-frame of relayed bytes, so a blank line closes any partial SSE event first.
 */
export function plainFailureFrame(stream: CompiledStream, failure: ContinuumError, cut = false): string {
  const event = stream.errorEvent(failure)
  const frame = plainFrame(stream.framing, event.name, stringify(event.data))
  return cut ? (stream.framing === 'sse' ? '\n\n' : '\n') + frame : frame
}
