/**
 * Retry delays: full-jitter exponential backoff (so a fleet of retrying clients spreads out
 * instead of hammering a recovering provider in step), raised to the provider's Retry-After when
 * it sent one. The random source is injected so tests are deterministic.
 */

/** Normalised retry settings (see RouterOptions.retry for the documented defaults). */
export interface RetrySettings {
  maxRetries: number
  baseDelayMs: number
  maxDelayMs: number
  maxRetryAfterMs: number
}

/**
 * The delay before retry number `retry` (0 for the first retry), or `undefined` when the
 * provider's Retry-After asks for longer than `maxRetryAfterMs` (then the router moves on to the
 * next provider rather than wait).
 */
export function retryDelayMs(
  settings: RetrySettings,
  retry: number,
  random: () => number,
  retryAfterSeconds: number | undefined,
): number | undefined {
  const ceiling = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** retry)
  const jittered = Math.floor(random() * ceiling)
  if (retryAfterSeconds === undefined) return jittered
  const retryAfterMs = Math.ceil(retryAfterSeconds * 1000)
  if (retryAfterMs > settings.maxRetryAfterMs) return undefined
  return Math.max(jittered, retryAfterMs)
}

/** Resolves after `milliseconds` (through the global timers, so fake timers drive it); rejects on abort. */
export function sleep(milliseconds: number, signal?: AbortSignal): Promise<void> {
  if (milliseconds <= 0) return Promise.resolve()
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason)
      return
    }
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, milliseconds)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
