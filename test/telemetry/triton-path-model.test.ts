/**
 * Triton names its model in the path (`/v2/models/{model}/generate`), not the body, so the model
 * a span reports comes from the path parameter. A body's model is cut to 128 characters before it
 * reaches a span; a caller who puts ~16 KB of model name in the path must meet the same bound,
 * or every span it causes (name and `gen_ai.request.model`) carries 16 KB to the trace backend.
 * Through the Express middleware on a real socket, with the fake Triton server, an encrypting
 * client and an in-memory span exporter.
 */
import { randomBytes } from 'node:crypto'
import { SpanKind } from '@opentelemetry/api'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { createEncryptedFetch } from 'continuum-proxy/client'
import { Telemetry } from 'continuum-proxy/telemetry'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FakeUpstream } from '../kit/server'
import { startTritonUpstream, tritonReplyFor } from '../kit/triton'
import { eventually, type RunningApp, startApp } from './helpers'

const key = randomBytes(32)
const exporter = new InMemorySpanExporter()
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
let upstream: FakeUpstream
let app: RunningApp

beforeAll(async () => {
  upstream = await startTritonUpstream()
  app = await startApp({
    upstream: upstream.url,
    keys: { keys: [{ id: 'k1', key }] },
    stages: [new Telemetry({ tracing: tracerProvider, provider: 'triton' })],
  })
})

afterAll(async () => {
  await app.close()
  await upstream.close()
})

describe('a Triton model name in the path', () => {
  it('is cut to 128 characters in the span name and gen_ai.request.model', async () => {
    // As long as node:http lets a request line be (16 KiB with the headers).
    const model = `m${'x'.repeat(15 * 1024)}`
    const fetcher = createEncryptedFetch({ keyId: 'k1', key })
    const response = await fetcher(`${app.origin}/v2/models/${model}/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text_input: 'hello triton' }),
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ text_output: tritonReplyFor('hello triton') })
    // The upstream still got the whole name: only telemetry is bounded.
    expect(upstream.requests.at(-1)?.url).toBe(`/v2/models/${model}/generate`)

    await eventually(() => exporter.getFinishedSpans().some((span) => span.kind === SpanKind.SERVER))
    const server = exporter.getFinishedSpans().find((span) => span.kind === SpanKind.SERVER)!
    expect(server.attributes['gen_ai.request.model']).toBe(model.slice(0, 128))
    expect(server.name).toBe(`text_completion ${model.slice(0, 128)}`)
  })
})
