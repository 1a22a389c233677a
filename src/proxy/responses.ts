/**
 * Builders of the responses the proxy itself writes: JSON bodies, and error bodies. Error bodies
 * come from ContinuumError.toJSON(), whose messages never hold content, or, on a route the router
 * gateway serves, from the route's codec, in the shape its clients read; the gateway's own error
 * answers are written here too. They are plain (`x-continuum-encrypted: 0`) and never cached
 * (`cache-control: no-store`); once a request authenticated they are also sealed for it (seal
 * kind `error`), so its client can tell the server's own refusal from one written on the path.
 */

import type { CipherContext } from '../cipher/field-cipher'
import { HEADERS } from '../cipher/format'
import { sealError } from '../cipher/message-codec'
import type { CoreResponse } from '../core/http'
import type { Logger } from '../core/logger'
import { type ContinuumError, toContinuumError } from '../errors'
import type { ExchangeResponse } from './exchange'

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
  return renderError(error, undefined, {})
}

/**
 * The error response of an authenticated request: the same plain body, sealed for its client
 * (`x-continuum-seal`, kind `error`) under the request's response context.
 */
export function sealedErrorResponse(
  error: unknown,
  seal: CipherContext,
  extraHeaders: Record<string, string> = {},
): CoreResponse {
  return renderError(error, seal, extraHeaders)
}

/**
 * The error response of a failure written in another shape than ours (a gateway dialect's):
 * the same status and headers, `body` in place of `{"error":{...}}`, sealed when `seal` is given.
 */
export function dialectErrorResponse(
  error: unknown,
  body: Record<string, unknown>,
  seal: CipherContext | undefined,
  extraHeaders: Record<string, string> = {},
): CoreResponse {
  return renderError(error, seal, extraHeaders, body)
}

/**
 * The wire response of an upstream answer that reports a failure (`failure` set on an error status
 * with a JSON body: the router gateway's error in the route's dialect), written as the proxy writes
 * its own errors: plain, never cached, sealed as an error when `seal` is given. Undefined for any
 * other answer, which is encoded as it is.
 */
export function reportedErrorResponse(
  response: ExchangeResponse,
  seal: CipherContext | undefined,
  extraHeaders: Record<string, string> = {},
): CoreResponse | undefined {
  const { failure, body } = response
  if (failure === undefined || body.type !== 'json' || response.status < 400) return undefined
  return renderError(failure, seal, extraHeaders, body.value, response.status)
}

function renderError(
  error: unknown,
  seal: CipherContext | undefined,
  extraHeaders: Record<string, string>,
  body?: Record<string, unknown>,
  statusOverride?: number,
): CoreResponse {
  const failure: ContinuumError = toContinuumError(error)
  const status = statusOverride ?? failure.status
  const headers: Record<string, string> = {
    ...extraHeaders,
    [HEADERS.encrypted]: '0',
    'cache-control': 'no-store',
  }
  if (failure.retryAfterSeconds !== undefined)
    headers['retry-after'] = String(Math.ceil(failure.retryAfterSeconds))
  const allowed = failure.details?.allowed
  if (failure.code === 'CONTINUUM_METHOD_NOT_ALLOWED' && Array.isArray(allowed))
    headers.allow = allowed.join(', ')
  const text = JSON.stringify(body ?? failure.toJSON())
  // Sealed as the client will read it: the parsed text, not the object (toJSON may hold values
  // that JSON.stringify drops or rewrites).
  if (seal !== undefined) headers[HEADERS.seal] = sealError(seal, status, JSON.parse(text))
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: text }
}

/**
 * 5xx codes that are no failure of this host: an upstream that broke the protocol, and a route
 * no adapter serves (501, answered to every path a scanner tries under `unknownRoutes: 'reject'`,
 * which `continuum-proxy serve` sets). The access log still records them by code.
 */
const UNREPORTED: ReadonlySet<string> = new Set([
  'CONTINUUM_UPSTREAM_PROTOCOL_ERROR',
  'CONTINUUM_ROUTE_NOT_SUPPORTED',
])

/**
 * Logs a failure worth an operator's attention (unexpected, or a server-side 5xx), by code and
 * error class only, since messages of foreign errors may quote content.
 */
export function reportFailure(logger: Logger, error: unknown): void {
  const failure = toContinuumError(error)
  if (failure.status >= 500 && !UNREPORTED.has(failure.code)) {
    logger.warn(
      {
        code: failure.code,
        status: failure.status,
        ...(failure === error ? {} : { errorClass: error instanceof Error ? error.name : typeof error }),
      },
      'request failed',
    )
  }
}
