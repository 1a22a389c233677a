/**
 * The body of an encrypted stream as the runtime's fetch decodes it. fetch undoes a
 * `content-encoding` on its own, and no response header is sealed: a relay that labels the
 * stream `gzip`, `br` or `deflate` over bytes that are not makes the decoder fail mid-read, and
 * Node's fetch raises that as a bare `TypeError: terminated`. Such a failure is refused as what it
 * is, bytes the server did not send that way; a network failure (the socket closed, reset) stays
 * the error it was, which an SDK reports as a lost connection.
 */
import { ContinuumError } from '../errors'

/** Codes of Node's zlib, Brotli and Zstandard decoders (`Z_DATA_ERROR`, `ERR__ERROR_FORMAT_PADDING_1`, ...). */
const DECODER_CODE = /^(Z_|ERR__|ERR_BROTLI|ERR_ZSTD|ERR_ZLIB)/

function decoderFailure(error: unknown): boolean {
  for (let at = error, depth = 0; typeof at === 'object' && at !== null && depth < 4; depth++) {
    const code = (at as { code?: unknown }).code
    if (typeof code === 'string' && DECODER_CODE.test(code)) return true
    at = (at as { cause?: unknown }).cause
  }
  return false
}

/**
 * `source`, with a decoder failure under a declared content-encoding raised as
 * CONTINUUM_RESPONSE_INTEGRITY_FAILED; `source` itself when none is declared, so an unencoded
 * stream (the usual case) costs no extra step a read.
 */
export function decodedBody(
  source: AsyncIterable<Uint8Array>,
  contentEncoding: string | null,
): AsyncIterable<Uint8Array> {
  const coding = contentEncoding?.trim().toLowerCase()
  if (coding === undefined || coding === '' || coding === 'identity') return source
  return refusingUndecodable(source, coding)
}

async function* refusingUndecodable(
  source: AsyncIterable<Uint8Array>,
  coding: string,
): AsyncGenerator<Uint8Array> {
  try {
    yield* source
  } catch (error) {
    if (!decoderFailure(error)) throw error
    throw new ContinuumError(
      'CONTINUUM_RESPONSE_INTEGRITY_FAILED',
      'Encrypted stream does not decode as its content-encoding says: it was altered on the path',
      { cause: error, details: { contentEncoding: coding.slice(0, 32) } },
    )
  }
}
