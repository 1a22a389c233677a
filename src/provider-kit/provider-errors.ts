/**
 * The one place that turns an upstream HTTP status or a network failure into a ContinuumError, so
 * every provider client classifies failures the same way and the router's retry, breaker and
 * fallback logic can rely on `code` and `isRetryable`. Messages name the provider and the status,
 * never the request, the response body or a credential.
 */
import { ContinuumError } from '../errors'

/** Response headers as undici, fetch or node:http hand them over. */
export type ResponseHeaders =
  | Headers
  | Readonly<Record<string, string | string[] | number | undefined>>
  | Iterable<readonly [string, string]>

function headerValue(headers: ResponseHeaders | undefined, name: string): string | undefined {
  if (headers === undefined) return undefined
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined
  if (Symbol.iterator in headers) {
    for (const [key, value] of headers as Iterable<readonly [string, string]>) {
      if (key.toLowerCase() === name) return value
    }
    return undefined
  }
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name || value === undefined) continue
    return Array.isArray(value) ? value[0] : String(value)
  }
  return undefined
}

/**
 * Seconds to wait from `Retry-After` (delta seconds or an HTTP date) or OpenAI's `retry-after-ms`.
 * Undefined when absent or unparsable.
 */
export function parseRetryAfter(
  headers: ResponseHeaders | undefined,
  now: number = Date.now(),
): number | undefined {
  const milliseconds = headerValue(headers, 'retry-after-ms')
  if (milliseconds !== undefined && /^\d+(\.\d+)?$/.test(milliseconds.trim())) {
    return Number(milliseconds) / 1000
  }
  const value = headerValue(headers, 'retry-after')?.trim()
  if (value === undefined || value === '') return undefined
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value)
  const date = Date.parse(value)
  if (Number.isNaN(date)) return undefined
  return Math.max(0, (date - now) / 1000)
}

/**
 * Maps a non-2xx provider answer to a ContinuumError: 400/422 bad request, 401/403 auth failed,
 * 429 rate limited (with Retry-After), everything else CONTINUUM_PROVIDER_ERROR, retryable for 5xx
 * and 408. `details.upstreamStatus` always carries the provider's status.
 */
export function providerErrorFromResponse(
  status: number,
  headers: ResponseHeaders | undefined,
  providerId: string,
): ContinuumError {
  const details = { provider: providerId, upstreamStatus: status }
  if (status === 429) {
    const retryAfterSeconds = parseRetryAfter(headers)
    return new ContinuumError(
      'CONTINUUM_PROVIDER_RATE_LIMITED',
      `Provider ${providerId} is rate limiting (429)`,
      {
        details,
        ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
      },
    )
  }
  if (status === 401 || status === 403) {
    return new ContinuumError(
      'CONTINUUM_PROVIDER_AUTH_FAILED',
      `Provider ${providerId} rejected the configured credentials (${status})`,
      { details },
    )
  }
  if (status === 400 || status === 422) {
    return new ContinuumError(
      'CONTINUUM_PROVIDER_BAD_REQUEST',
      `Provider ${providerId} rejected the request (${status})`,
      {
        details,
      },
    )
  }
  const isRetryable = status >= 500 || status === 408
  const retryAfterSeconds = isRetryable ? parseRetryAfter(headers) : undefined
  return new ContinuumError(
    'CONTINUUM_PROVIDER_ERROR',
    `Provider ${providerId} answered with status ${status}`,
    {
      details,
      isRetryable,
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    },
  )
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
])
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
])

/** Every error code on the error, its causes and aggregated errors (undici nests them). */
function errorCodes(error: unknown, depth = 0): string[] {
  if (depth > 4 || typeof error !== 'object' || error === null) return []
  const record = error as { code?: unknown; cause?: unknown; errors?: unknown }
  const codes = typeof record.code === 'string' ? [record.code] : []
  codes.push(...errorCodes(record.cause, depth + 1))
  if (Array.isArray(record.errors))
    for (const inner of record.errors) codes.push(...errorCodes(inner, depth + 1))
  return codes
}

/** Whether an error is an abort (AbortController, request.signal). */
export function isAbortError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'AbortError'
}

/**
 * Maps a failure to reach a provider to a ContinuumError. Returns the error itself, unchanged,
 * when it is already a ContinuumError or an AbortError (the caller's signal fired): callers write
 * `throw providerErrorFromNetwork(error, this.id)`.
 */
export function providerErrorFromNetwork(error: unknown, providerId: string): unknown {
  if (ContinuumError.isInstance(error) || isAbortError(error)) return error
  const details = { provider: providerId }
  if (typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'TimeoutError') {
    return new ContinuumError('CONTINUUM_PROVIDER_TIMEOUT', `Provider ${providerId} timed out`, {
      cause: error,
      details,
    })
  }
  const codes = errorCodes(error)
  const timeoutCode = codes.find((code) => TIMEOUT_CODES.has(code))
  if (timeoutCode !== undefined) {
    return new ContinuumError(
      'CONTINUUM_PROVIDER_TIMEOUT',
      `Provider ${providerId} timed out (${timeoutCode})`,
      {
        cause: error,
        details: { ...details, networkCode: timeoutCode },
      },
    )
  }
  const unavailableCode = codes.find((code) => UNAVAILABLE_CODES.has(code))
  if (unavailableCode !== undefined) {
    return new ContinuumError(
      'CONTINUUM_PROVIDER_UNAVAILABLE',
      `Provider ${providerId} is unreachable (${unavailableCode})`,
      { cause: error, details: { ...details, networkCode: unavailableCode } },
    )
  }
  return new ContinuumError('CONTINUUM_PROVIDER_ERROR', `Request to provider ${providerId} failed`, {
    cause: error,
    details,
    isRetryable: true,
  })
}
