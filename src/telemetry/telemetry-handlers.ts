/**
 * The telemetry endpoints as framework-neutral CoreHandlers: Prometheus metrics in the text
 * exposition format, liveness (200 while the process can answer at all) and readiness (200 or 503
 * from the pluggable checks). Each answers GET and HEAD on its own path only and leaves every other
 * request to the next handler, so they chain in front of the proxy routes.
 */

import type { Registry } from 'prom-client'
import type { CoreHandler, CoreRequest, CoreResponse } from '../core/http'
import { OPENMETRICS_CONTENT_TYPE, openMetricsText } from './openmetrics'
import { type ReadinessCheck, runReadinessChecks } from './readiness'

function pathOf(request: CoreRequest): string {
  const mark = request.url.indexOf('?')
  return mark === -1 ? request.url : request.url.slice(0, mark)
}

function isRead(request: CoreRequest): boolean {
  return request.method === 'GET' || request.method === 'HEAD'
}

function json(status: number, value: unknown, head: boolean): CoreResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: head ? null : JSON.stringify(value),
  }
}

/**
 * Serves the registry at `path`: in the OpenMetrics text format when the scraper's `Accept` asks
 * for `application/openmetrics-text`, in Prometheus text format otherwise.
 */
export function metricsHandler(registry: Registry, path: string): CoreHandler {
  return async (request) => {
    if (!isRead(request) || pathOf(request) !== path) return undefined
    const openMetrics = (request.headers.accept ?? '').toLowerCase().includes('application/openmetrics-text')
    const text = openMetrics ? await openMetricsText(registry) : await registry.metrics()
    return {
      status: 200,
      headers: {
        'content-type': openMetrics ? OPENMETRICS_CONTENT_TYPE : registry.contentType,
        'cache-control': 'no-store',
        vary: 'accept',
      },
      body: request.method === 'HEAD' ? null : text,
    }
  }
}

/** Answers 200 at `path` while the process runs. */
export function livenessHandler(path: string): CoreHandler {
  return async (request) => {
    if (!isRead(request) || pathOf(request) !== path) return undefined
    return json(200, { status: 'ok' }, request.method === 'HEAD')
  }
}

/** Answers 200 at `path` when every check is ready, 503 otherwise, with each check's report. */
export function readinessHandler(
  path: string,
  checks: Readonly<Record<string, ReadinessCheck>>,
  timeoutMs: number,
): CoreHandler {
  return async (request) => {
    if (!isRead(request) || pathOf(request) !== path) return undefined
    const result = await runReadinessChecks(checks, timeoutMs)
    return json(
      result.ready ? 200 : 503,
      { status: result.ready ? 'ready' : 'not_ready', checks: result.checks },
      request.method === 'HEAD',
    )
  }
}
