/**
 * Builders of the responses the proxy itself writes: JSON bodies, and error bodies marked as not
 * encrypted. Error bodies come from ContinuumError.toJSON(), whose messages never hold content.
 */

import { HEADERS } from '../cipher/format'
import type { CoreResponse } from '../core/http'
import { type ContinuumError, toContinuumError } from '../errors'

/** A JSON response. */
export function jsonResponse(
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): CoreResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(value),
  }
}

/** The error response of any failure: `{"error":{code,message,type}}`, `x-continuum-encrypted: 0`. */
export function errorResponse(error: unknown): CoreResponse {
  const failure: ContinuumError = toContinuumError(error)
  const headers: Record<string, string> = { [HEADERS.encrypted]: '0', 'cache-control': 'no-store' }
  if (failure.retryAfterSeconds !== undefined)
    headers['retry-after'] = String(Math.ceil(failure.retryAfterSeconds))
  const allowed = failure.details?.allowed
  if (failure.code === 'CONTINUUM_METHOD_NOT_ALLOWED' && Array.isArray(allowed))
    headers.allow = allowed.join(', ')
  return jsonResponse(failure.status, failure.toJSON(), headers)
}
