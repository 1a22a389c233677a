/**
 * The one place that turns an upstream HTTP status or a network failure into a ContinuumError, so
 * every provider client classifies failures the same way and the router's retry, breaker and
 * fallback logic can rely on `code` and `isRetryable`. Messages name the provider and the status,
 * never the request, the response body or a credential.
 */
import { ContinuumError } from '../errors'
import { classifyNetworkError, isAbortError } from '../transport/network-errors'

export { isAbortError }

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

/**
 * Maps a failure to reach a provider to a ContinuumError. Returns the error itself, unchanged,
 * when it is already a ContinuumError or an AbortError (the caller's signal fired): callers write
 * `throw providerErrorFromNetwork(error, this.id)`.
 */
export function providerErrorFromNetwork(error: unknown, providerId: string): unknown {
  if (ContinuumError.isInstance(error) || isAbortError(error)) return error
  const details = { provider: providerId }
  const failure = classifyNetworkError(error)
  const networkCode = failure.code === undefined ? {} : { networkCode: failure.code }
  const because = failure.code === undefined ? '' : ` (${failure.code})`
  if (failure.kind === 'timeout') {
    return new ContinuumError('CONTINUUM_PROVIDER_TIMEOUT', `Provider ${providerId} timed out${because}`, {
      cause: error,
      details: { ...details, ...networkCode },
    })
  }
  if (failure.kind === 'unavailable') {
    return new ContinuumError(
      'CONTINUUM_PROVIDER_UNAVAILABLE',
      `Provider ${providerId} is unreachable${because}`,
      { cause: error, details: { ...details, ...networkCode } },
    )
  }
  return new ContinuumError('CONTINUUM_PROVIDER_ERROR', `Request to provider ${providerId} failed`, {
    cause: error,
    details,
    isRetryable: true,
  })
}
