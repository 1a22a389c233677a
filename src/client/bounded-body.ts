/**
 * Reading an answer's body within a bound. An answer to an encrypted request is read whole before
 * its seal can be checked, and anyone on the path can make that body endless: read with
 * `response.text()`, it grew the client's memory without limit (a forged `x-continuum-seal` on an
 * error answer was enough). Streams are bounded by their decoders, line and event; JSON answers,
 * sealed errors and the agreement key document are bounded here, as the Python client bounds them.
 */
import { ContinuumError } from '../errors'

/**
 * Largest JSON answer or error body read by default (the server's default `responseLimit`, and
 * the Python client's `max_response_bytes`); `maxResponseBytes` of the encrypting fetch sets it.
 */
export const MAX_ANSWER_BYTES = 64 * 1024 * 1024

/** Largest agreement key document read: a hybrid one is under 2 KiB. */
export const MAX_KEY_DOCUMENT_BYTES = 64 * 1024

/** The refusal of an answer over `limit` bytes. */
export function answerTooLarge(limit: number): ContinuumError {
  return new ContinuumError('CONTINUUM_UPSTREAM_RESPONSE_TOO_LARGE', `Encrypted answer over ${limit} bytes`, {
    details: { limit },
  })
}

/**
 * A body's text, as `response.text()` decodes it (UTF-8, a leading BOM dropped), reading at most
 * `limit` bytes: past it the rest is cancelled and `tooLarge()` is thrown.
 */
export async function readBoundedText(
  response: Response,
  limit: number,
  tooLarge: () => ContinuumError,
): Promise<string> {
  const reader = response.body?.getReader()
  if (reader === undefined) return ''
  const chunks: Uint8Array[] = []
  let length = 0
  for (;;) {
    const next = await reader.read()
    if (next.done) break
    length += next.value.byteLength
    if (length > limit) {
      await reader.cancel().catch(() => undefined)
      throw tooLarge()
    }
    chunks.push(next.value)
  }
  if (chunks.length === 1) return new TextDecoder().decode(chunks[0])
  // Joined by hand: a spread of thousands of chunks could pass an engine's argument limit.
  const joined = new Uint8Array(length)
  let offset = 0
  for (const chunk of chunks) {
    joined.set(chunk, offset)
    offset += chunk.byteLength
  }
  return new TextDecoder().decode(joined)
}
