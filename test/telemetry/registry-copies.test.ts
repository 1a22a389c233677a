/**
 * prom-client is an optional peer, so the application's copy of it is not necessarily the one this
 * package resolves (another version, a bundled copy, a dual ESM/CJS install). A Registry from a
 * second copy is accepted and the proxy's metrics are served from it; an object that only looks
 * like a registry in part is refused at construction. (A missing prom-client is checked on the
 * built package by test/smoke/missing-peers.mjs.)
 */
import { createRequire } from 'node:module'
import { ContinuumError } from 'continuum-proxy'
import { Telemetry } from 'continuum-proxy/telemetry'
import type * as PromClient from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startOpenAIUpstream } from '../kit/openai-echo'
import type { FakeUpstream } from '../kit/server'
import { parseExposition, type RunningApp, startApp } from './helpers'

/** A second, separate instance of prom-client: its module cache entries are dropped first. */
function secondCopy(): typeof PromClient {
  const require = createRequire(import.meta.url)
  const first = require('prom-client') as typeof PromClient
  const root = require.resolve('prom-client').replace(/index\.js$/, '')
  for (const key of Object.keys(require.cache)) if (key.startsWith(root)) delete require.cache[key]
  const second = require('prom-client') as typeof PromClient
  expect(second.Registry).not.toBe(first.Registry)
  return second
}

let upstream: FakeUpstream
let app: RunningApp

beforeAll(async () => {
  upstream = await startOpenAIUpstream()
})

afterAll(async () => {
  await app?.close()
  await upstream.close()
})

describe('a registry from another copy of prom-client', () => {
  it('is used for the proxy metrics and served at /metrics', async () => {
    const registry = new (secondCopy().Registry)()
    const telemetry = new Telemetry({ tracing: false, meterProvider: false, registry })
    expect(telemetry.registry).toBe(registry)
    app = await startApp({ upstream: upstream.url, stages: [telemetry] })
    const answer = await fetch(`${app.origin}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    })
    expect(answer.status).toBe(200)
    const fromRegistry = parseExposition(await registry.metrics())
    expect(fromRegistry.some((sample) => sample.name === 'inference_requests_total')).toBe(true)
    const scraped = await fetch(`${app.origin}/metrics`)
    expect(scraped.status).toBe(200)
    const served = parseExposition(await scraped.text())
    const requests = served.find((sample) => sample.name === 'inference_requests_total')
    expect(requests?.value).toBe(1)
  })

  it('refuses an object that is not a registry with CONTINUUM_INVALID_OPTIONS', () => {
    const halfRegistry = { metrics: async () => '' }
    let caught: unknown
    try {
      new Telemetry({ registry: halfRegistry as never })
    } catch (error) {
      caught = error
    }
    expect(ContinuumError.isInstance(caught) && caught.code).toBe('CONTINUUM_INVALID_OPTIONS')
  })
})
