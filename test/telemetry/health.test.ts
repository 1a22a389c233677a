/**
 * Liveness and readiness over HTTP through the Express middleware, with real checks: the upstream
 * reachable (the fake's model list), a closed port, a throwing check, a check that never answers.
 */
import { ContinuumError } from 'continuum-proxy'
import { builtinAdapters } from 'continuum-proxy/adapters'
import {
  httpReadinessCheck,
  type ReadinessCheck,
  routerReadinessCheck,
  Telemetry,
} from 'continuum-proxy/telemetry'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startOpenAIUpstream } from '../kit/openai-echo'
import { closedPort, type FakeUpstream } from '../kit/server'
import { type RunningApp, startApp } from './helpers'

let upstream: FakeUpstream
const apps: RunningApp[] = []

beforeAll(async () => {
  upstream = await startOpenAIUpstream()
})

afterAll(async () => {
  for (const app of apps) await app.close()
  await upstream.close()
})

async function appWith(readiness: Record<string, ReadinessCheck>, extra: object = {}): Promise<RunningApp> {
  const app = await startApp({
    upstream: upstream.url,
    // Every protocol (TGI's /metrics) and the 501: the assertions below read both.
    adapters: builtinAdapters(),
    unknownRoutes: 'reject',
    stages: [new Telemetry({ tracing: false, readiness, readinessTimeoutMs: 200, ...extra })],
  })
  apps.push(app)
  return app
}

describe('liveness and readiness', () => {
  it('answers /livez with 200 and /readyz with 200 when the upstream is reachable', async () => {
    const app = await appWith({ upstream: httpReadinessCheck(`${upstream.url}/v1/models`) })
    const live = await fetch(`${app.origin}/livez`)
    expect(live.status).toBe(200)
    expect(await live.json()).toEqual({ status: 'ok' })
    const ready = await fetch(`${app.origin}/readyz`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toEqual({
      status: 'ready',
      checks: { upstream: { ready: true, detail: 'HTTP 200' } },
    })
    const head = await fetch(`${app.origin}/readyz`, { method: 'HEAD' })
    expect(head.status).toBe(200)
  })

  it('answers 503 naming the failing checks: unreachable, throwing, slow', async () => {
    const port = await closedPort()
    const app = await appWith({
      upstream: httpReadinessCheck(`http://127.0.0.1:${port}/health`),
      throwing: () => {
        throw new ContinuumError('CONTINUUM_UPSTREAM_UNAVAILABLE', 'down')
      },
      slow: (signal) => new Promise((resolve) => signal.addEventListener('abort', () => resolve(true))),
      fine: () => true,
    })
    const live = await fetch(`${app.origin}/livez`)
    expect(live.status).toBe(200)
    const ready = await fetch(`${app.origin}/readyz`)
    expect(ready.status).toBe(503)
    expect(await ready.json()).toEqual({
      status: 'not_ready',
      checks: {
        upstream: { ready: false, detail: 'ECONNREFUSED' },
        throwing: { ready: false, detail: 'CONTINUUM_UPSTREAM_UNAVAILABLE' },
        slow: { ready: false, detail: 'timed out after 200 ms' },
        fine: { ready: true },
      },
    })
  })

  it('follows the router health, and serves custom paths only', async () => {
    let status: 'healthy' | 'degraded' | 'unhealthy' = 'degraded'
    const router = { health: async () => ({ status }) }
    const app = await appWith(
      { router: routerReadinessCheck(router) },
      { livenessPath: '/ops/live', readinessPath: '/ops/ready', metricsPath: false },
    )
    expect((await fetch(`${app.origin}/ops/ready`)).status).toBe(200)
    status = 'unhealthy'
    expect((await fetch(`${app.origin}/ops/ready`)).status).toBe(503)
    expect((await fetch(`${app.origin}/ops/live`)).status).toBe(200)
    // The default paths now belong to the proxy, which serves no such route.
    expect((await fetch(`${app.origin}/livez`)).status).toBe(501)
    // /metrics is a plain TGI route: without our endpoint it reaches the inference server's own.
    expect(await (await fetch(`${app.origin}/metrics`)).text()).toContain('vllm:num_requests_running')
  })

  it('refuses bad telemetry options', () => {
    expect(() => new Telemetry({ metricsPath: 'metrics' })).toThrow(/metricsPath/)
    expect(() => new Telemetry({ readiness: { bad: 'yes' as never } })).toThrow(/readiness/)
    expect(() => new Telemetry({ latencyBuckets: [1, 0.5] })).toThrow(/latencyBuckets/)
    expect(() => new Telemetry({ metricPrefix: '9bad' })).toThrow(/metricPrefix/)
    expect(() => new Telemetry({ tracing: {} as never })).toThrow(/tracing/)
    expect(() => httpReadinessCheck('not a url')).toThrow(ContinuumError)
  })
})
