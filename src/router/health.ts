/**
 * Provider and router health. Each provider is probed in parallel under a timeout and its breaker
 * state folded in (an open breaker means the router sends it nothing, whatever the probe says).
 * The router is healthy when every provider is, unhealthy when none can take traffic, degraded in
 * between. Probe failures are reported by code only; details never carry secrets or upstream text.
 */
import type { Logger } from '../core/logger'
import { ContinuumError } from '../errors'
import type { HealthStatus, ProviderHealth } from '../provider-kit/provider'
import type { BreakerState } from './circuit-breaker'
import type { ProviderRuntime } from './routing-plan'

/** One provider's health as the router sees it. */
export interface ProviderHealthReport extends ProviderHealth {
  breaker: BreakerState
}

/** Health of the whole router. */
export interface RouterHealth {
  status: HealthStatus
  providers: Record<string, ProviderHealthReport>
}

async function probe(runtime: ProviderRuntime, timeoutMs: number): Promise<ProviderHealth> {
  const controller = new AbortController()
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<ProviderHealth>((resolve) => {
    timer = setTimeout(() => {
      controller.abort()
      resolve({ status: 'unhealthy', detail: `health probe timed out after ${timeoutMs} ms` })
    }, timeoutMs)
  })
  try {
    const pending = runtime.provider.health(controller.signal)
    pending.catch(() => {})
    return await Promise.race([pending, timeout])
  } catch (error) {
    const code = ContinuumError.isInstance(error) ? error.code : 'CONTINUUM_INTERNAL'
    return { status: 'unhealthy', detail: `health probe failed (${code})` }
  } finally {
    clearTimeout(timer)
  }
}

/** Probes every provider and aggregates. */
export async function checkRouterHealth(
  runtimes: ReadonlyMap<string, ProviderRuntime>,
  timeoutMs: number,
  logger: Logger,
): Promise<RouterHealth> {
  const entries = await Promise.all(
    [...runtimes.entries()].map(async ([id, runtime]): Promise<[string, ProviderHealthReport]> => {
      const result = await probe(runtime, timeoutMs)
      const breaker = runtime.breaker.state
      let status: HealthStatus = result.status
      if (breaker === 'open') status = 'unhealthy'
      else if (breaker === 'half-open' && status === 'healthy') status = 'degraded'
      if (status !== 'healthy') logger.debug({ provider: id, status, breaker }, 'provider not healthy')
      const report: ProviderHealthReport = { status, breaker }
      if (result.latencyMs !== undefined) report.latencyMs = result.latencyMs
      const detail = breaker === 'open' ? 'circuit open' : result.detail
      if (detail !== undefined) report.detail = detail
      return [id, report]
    }),
  )
  const statuses = entries.map(([, report]) => report.status)
  const status: HealthStatus = statuses.every((value) => value === 'healthy')
    ? 'healthy'
    : statuses.every((value) => value === 'unhealthy')
      ? 'unhealthy'
      : 'degraded'
  return { status, providers: Object.fromEntries(entries) }
}
