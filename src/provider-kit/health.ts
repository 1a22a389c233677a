/**
 * The health probe every provider shares: one cheap call, timed, reported as a ProviderHealth
 * instead of thrown, because the router polls health and a failed probe is an answer, not an
 * exception. Only the caller's own abort propagates. `detail` holds an error code, never a body.
 */
import { ContinuumError } from '../errors'
import type { ProviderHealth } from './provider'
import { isAbortError } from './provider-errors'
import type { ProviderHttp, ProviderHttpRequest } from './provider-http'

/**
 * Sends `request` and reports healthy on a 2xx answer, unhealthy otherwise. A provider whose
 * request needs asynchronous work first (a signature, a fresh token) passes a function that builds
 * it: that work is timed with the call, and its failure is reported as unhealthy too.
 * @example probeHealth(http, async () => ({ method: 'GET', url, headers: await sign(url) }))
 */
export async function probeHealth(
  http: ProviderHttp,
  request: ProviderHttpRequest | (() => Promise<ProviderHttpRequest> | ProviderHttpRequest),
): Promise<ProviderHealth> {
  const started = performance.now()
  try {
    await http.json(typeof request === 'function' ? await request() : request)
    return { status: 'healthy', latencyMs: Math.round(performance.now() - started) }
  } catch (error) {
    if (isAbortError(error)) throw error
    return healthFromError(error, performance.now() - started)
  }
}

/** An unhealthy (or, when rate limited, degraded) report for a failed probe. */
export function healthFromError(error: unknown, elapsedMs: number): ProviderHealth {
  const code = ContinuumError.isInstance(error) ? error.code : 'CONTINUUM_INTERNAL'
  const status = code === 'CONTINUUM_PROVIDER_RATE_LIMITED' ? 'degraded' : 'unhealthy'
  return { status, latencyMs: Math.round(elapsedMs), detail: code }
}
