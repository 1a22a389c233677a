/**
 * The Koa and Fastify bindings get telemetry for free through createProxy: an encrypted chat is
 * traced and counted, and /metrics, /livez and /readyz answer over real HTTP.
 */

import { randomBytes } from 'node:crypto'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SpanKind } from '@opentelemetry/api'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import type { ProxyOptions } from 'continuum-proxy'
import { createEncryptedFetch } from 'continuum-proxy/client'
import { continuum as fastifyContinuum } from 'continuum-proxy/fastify'
import { continuum as koaContinuum } from 'continuum-proxy/koa'
import { Telemetry } from 'continuum-proxy/telemetry'
import Fastify from 'fastify'
import Koa from 'koa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startOpenAIUpstream } from '../kit/openai-echo'
import type { FakeUpstream } from '../kit/server'
import { eventually, sampleValue, scrape } from './helpers'

const key = randomBytes(32)
let upstream: FakeUpstream

beforeAll(async () => {
  upstream = await startOpenAIUpstream()
})

afterAll(async () => {
  await upstream.close()
})

function options(exporter: InMemorySpanExporter): ProxyOptions {
  return {
    upstream: upstream.url,
    keys: { keys: [{ id: 'k1', key }] },
    stages: [
      new Telemetry({
        tracing: new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
      }),
    ],
  }
}

async function exercise(origin: string, exporter: InMemorySpanExporter): Promise<void> {
  const encrypted = createEncryptedFetch({ keyId: 'k1', key })
  const response = await encrypted(`${origin}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'llama-3-8b', messages: [{ role: 'user', content: 'hello there' }] }),
  })
  expect(response.status).toBe(200)
  await response.text()
  await eventually(() => exporter.getFinishedSpans().some((span) => span.kind === SpanKind.SERVER))
  expect(exporter.getFinishedSpans().map((span) => span.name)).toContain('chat llama-3-8b')
  const { samples } = await scrape(`${origin}/metrics`)
  expect(sampleValue(samples, 'inference_requests_total', { outcome: 'success' })).toBe(1)
  expect(sampleValue(samples, 'inference_tokens_total', { direction: 'output' })).toBe(15)
  expect((await fetch(`${origin}/livez`)).status).toBe(200)
  expect((await fetch(`${origin}/readyz`)).status).toBe(200)
}

describe('bindings', () => {
  it('Koa', async () => {
    const exporter = new InMemorySpanExporter()
    const app = new Koa()
    const middleware = koaContinuum(options(exporter))
    app.use(middleware)
    const server: Server = await new Promise((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening))
    })
    try {
      await exercise(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, exporter)
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      await middleware.proxy.close()
    }
  })

  it('Fastify', async () => {
    const exporter = new InMemorySpanExporter()
    const app = Fastify()
    await app.register(fastifyContinuum, options(exporter))
    await app.listen({ port: 0, host: '127.0.0.1' })
    try {
      await exercise(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, exporter)
    } finally {
      await app.close()
    }
  })
})
