/**
 * The one table of network failures: which error codes (Node's `E*` codes and undici's `UND_ERR_*`,
 * found on the error, its causes or its aggregated errors) mean the peer timed out and which mean
 * it could not be reached. The proxy's upstream and every router provider classify transport
 * failures through it, each mapping the kind onto its own error code.
 */

/** What a transport failure was. */
export interface NetworkFailure {
  readonly kind: 'timeout' | 'unavailable' | 'unknown'
  /** The code that decided it, e.g. `ECONNREFUSED`; never a message, which may quote a host or path. */
  readonly code: string | undefined
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
  'ECONNABORTED',
  'ENOENT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
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

/** Whether an error is an abort (AbortController, `request.signal`). */
export function isAbortError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'AbortError'
}

/** Classifies a transport failure by the table above; a `TimeoutError` (fetch's) is a timeout. */
export function classifyNetworkError(error: unknown): NetworkFailure {
  if (typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'TimeoutError') {
    return { kind: 'timeout', code: undefined }
  }
  const codes = errorCodes(error)
  const timeout = codes.find((code) => TIMEOUT_CODES.has(code))
  if (timeout !== undefined) return { kind: 'timeout', code: timeout }
  const unavailable = codes.find((code) => UNAVAILABLE_CODES.has(code))
  if (unavailable !== undefined) return { kind: 'unavailable', code: unavailable }
  return { kind: 'unknown', code: undefined }
}
