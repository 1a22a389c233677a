/**
 * Reads a request body within a byte limit and parses it as JSON. A body over the limit is refused
 * as soon as its declared length or its running total passes the limit, without reading the rest.
 */
import type { CoreRequestBody } from '../core/http'
import { ContinuumError } from '../errors'

function tooLarge(limit: number): ContinuumError {
  return new ContinuumError('CONTINUUM_BODY_TOO_LARGE', `Request body is larger than ${limit} bytes`, {
    details: { limit },
  })
}

/** Reads the raw bytes of a body, refusing more than `limit` bytes. */
export async function readBodyBytes(
  body: CoreRequestBody,
  limit: number,
  declaredLength?: string,
): Promise<Buffer> {
  if (declaredLength !== undefined && Number(declaredLength) > limit) throw tooLarge(limit)
  switch (body.kind) {
    case 'empty':
      return Buffer.alloc(0)
    case 'bytes':
      if (body.bytes.byteLength > limit) throw tooLarge(limit)
      return Buffer.from(body.bytes.buffer, body.bytes.byteOffset, body.bytes.byteLength)
    case 'parsed':
      return Buffer.from(JSON.stringify(body.value) ?? '')
    case 'stream': {
      const chunks: Buffer[] = []
      let total = 0
      for await (const chunk of body.stream) {
        total += chunk.byteLength
        if (total > limit) throw tooLarge(limit)
        chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))
      }
      return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total)
    }
  }
}

/** Reads and parses a JSON body; a framework-parsed body is used as it is. */
export async function readJsonBody(
  body: CoreRequestBody,
  limit: number,
  declaredLength?: string,
): Promise<unknown> {
  if (body.kind === 'parsed') return body.value
  const bytes = await readBodyBytes(body, limit, declaredLength).catch((error: unknown) => {
    if (ContinuumError.isInstance(error)) throw error
    // A request stream only fails when the client goes away mid-upload: not a server fault.
    throw new ContinuumError(
      'CONTINUUM_CLIENT_ABORTED',
      'Client closed the connection while sending the body',
      {
        cause: error,
      },
    )
  })
  try {
    return JSON.parse(bytes.toString('utf8'))
  } catch (error) {
    throw new ContinuumError('CONTINUUM_INVALID_JSON', 'Request body is not valid JSON', { cause: error })
  }
}
