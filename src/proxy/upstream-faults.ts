/**
 * The upstream faults the eager path reports as well as the stream path: JSON nested too deep to
 * walk, and a stream that broke off. Kept apart from stream-events.ts so the JSON path and the
 * relayed-bytes path do not load the stream decoders (loaded on the first streamed response).
 */
import { ContinuumError } from '../errors'
import { upstreamError } from './http-upstream'

/**
 * Deepest nesting accepted in an upstream body or event: far above any real answer, far below
 * what the sealer's recursion could take. A deeper one is a protocol error, not a crash.
 */
export const MAX_RESPONSE_DEPTH = 256

/** The error of upstream JSON nested deeper than {@link MAX_RESPONSE_DEPTH}. */
export function tooDeep(): ContinuumError {
  return new ContinuumError(
    'CONTINUUM_UPSTREAM_PROTOCOL_ERROR',
    `Upstream JSON nests deeper than ${MAX_RESPONSE_DEPTH} levels`,
  )
}

/** Turns a failure inside a stream into the error to report in-band; undefined when the client left. */
export function streamFailure(error: unknown, signal: AbortSignal): ContinuumError | undefined {
  if (signal.aborted) return undefined
  const failure = upstreamError(error, signal)
  if (failure.code === 'CONTINUUM_UPSTREAM_UNAVAILABLE') {
    return new ContinuumError(
      'CONTINUUM_UPSTREAM_STREAM_ABORTED',
      'Upstream closed the stream before it finished',
      { cause: error },
    )
  }
  return failure
}
