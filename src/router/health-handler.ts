/**
 * A framework-neutral readiness endpoint over `router.health()`, mounted by the Express, Koa and
 * Fastify bindings like any other CoreHandler. Healthy and degraded answer 200 (the router can
 * still serve), unhealthy 503, so an orchestrator stops sending traffic only when nothing works.
 */
import type { CoreHandler, CoreResponse } from '../core/http'
import { ContinuumError } from '../errors'
import type { RouterHealth } from './health'

/** Options of {@link createHealthHandler}. */
export interface HealthHandlerOptions {
  /** Anything with a `health()` like InferenceRouter. */
  router: { health(): Promise<RouterHealth> }
  /**
   * Path answered; other paths pass through.
   * @default '/readyz'
   */
  path?: string
  /**
   * Include per-provider status, breaker and latency in the body (never secrets or upstream text).
   * @default true
   */
  includeProviders?: boolean
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }

function json(status: number, body: unknown, extra: Record<string, string> = {}): CoreResponse {
  return { status, headers: { ...JSON_HEADERS, ...extra }, body: JSON.stringify(body) }
}

/** Builds the readiness handler. */
export function createHealthHandler(options: HealthHandlerOptions): CoreHandler {
  if (typeof options?.router?.health !== 'function') {
    throw new ContinuumError(
      'CONTINUUM_INVALID_OPTIONS',
      'createHealthHandler: router must have a health() method',
    )
  }
  const path = options.path ?? '/readyz'
  if (typeof path !== 'string' || !path.startsWith('/')) {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'createHealthHandler: path must start with "/"')
  }
  const includeProviders = options.includeProviders ?? true
  const router = options.router
  return async (request) => {
    const queryAt = request.url.indexOf('?')
    const requestPath = queryAt === -1 ? request.url : request.url.slice(0, queryAt)
    if (requestPath !== path) return undefined
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      const error = new ContinuumError('CONTINUUM_METHOD_NOT_ALLOWED', `${path} answers GET and HEAD only`)
      return json(error.status, error.toJSON(), { allow: 'GET, HEAD' })
    }
    let health: RouterHealth
    try {
      health = await router.health()
    } catch {
      health = { status: 'unhealthy', providers: {} }
    }
    const status = health.status === 'unhealthy' ? 503 : 200
    const body = includeProviders ? health : { status: health.status }
    if (request.method === 'HEAD') return { status, headers: { ...JSON_HEADERS }, body: null }
    return json(status, body)
  }
}
