/**
 * The checks every gateway request codec opens with, shared by the OpenAI Chat, OpenAI Responses
 * and Anthropic Messages codecs: schema errors that name a path and never a value, client-chosen
 * keys reduced to what an error may show, and the model name read after refusing the parameters
 * that point at state the provider keeps under the gateway's own credential, which every caller
 * of the gateway shares.
 */
import { ContinuumError } from '../../../src/index'

/** A body that breaks its dialect's schema: CONTINUUM_SCHEMA_VIOLATION naming the path. */
export function invalid(path: string, expectation: string): ContinuumError {
  return new ContinuumError('CONTINUUM_SCHEMA_VIOLATION', `${path}: ${expectation}`, { details: { path } })
}

/** A client-chosen key as an error may show it: schema-like names only, never free text. */
export function safeKey(key: string): string {
  return /^[A-Za-z0-9_.-]{1,64}$/.test(key) ? key : '(unnamed parameter)'
}

/** Parameters a codec refuses for every provider, and why (the message after the key's name). */
export interface SharedStateKeys {
  readonly keys: readonly string[]
  readonly reason: string
}

/**
 * The model a request names; CONTINUUM_SCHEMA_VIOLATION when it names none, and
 * CONTINUUM_NOT_SUPPORTED for a refused parameter that is set (null counts as unset).
 * @default refused: none
 */
export function requestModel(body: Record<string, unknown>, refused?: SharedStateKeys): string {
  if (typeof body.model !== 'string' || body.model === '')
    throw invalid('model', 'must be a non-empty string')
  if (refused === undefined) return body.model
  for (const key of refused.keys) {
    if (body[key] !== undefined && body[key] !== null) {
      throw new ContinuumError('CONTINUUM_NOT_SUPPORTED', `${key}: ${refused.reason}`, {
        details: { path: key },
      })
    }
  }
  return body.model
}
