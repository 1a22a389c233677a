/**
 * Reads the body the proxy pipeline hands an upstream back into a JSON object. On adapter routes
 * it is the decrypted, validated body the pipeline serialised; on pass-through paths it may be raw
 * bytes or a stream, so every form the `Upstream` contract allows is accepted.
 */
import { ContinuumError } from '../../errors'
import type { UpstreamRequest } from '../../proxy/upstream'

const decoder = new TextDecoder()

async function textOf(body: UpstreamRequest['body']): Promise<string> {
  if (body === null) return ''
  if (typeof body === 'string') return body
  if (body instanceof Uint8Array) return decoder.decode(body)
  const chunks: Uint8Array[] = []
  for await (const chunk of body) chunks.push(chunk)
  return Buffer.concat(chunks).toString('utf8')
}

/** The body as a JSON object; CONTINUUM_INVALID_JSON or CONTINUUM_SCHEMA_VIOLATION otherwise. */
export async function readRequestJson(body: UpstreamRequest['body']): Promise<Record<string, unknown>> {
  let value: unknown
  try {
    value = JSON.parse(await textOf(body))
  } catch (error) {
    throw new ContinuumError('CONTINUUM_INVALID_JSON', 'Request body is not valid JSON', { cause: error })
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ContinuumError('CONTINUUM_SCHEMA_VIOLATION', 'Request body must be a JSON object', {
      details: { path: '/' },
    })
  }
  return value as Record<string, unknown>
}
