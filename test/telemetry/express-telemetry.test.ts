/**
 * Telemetry through the real Express middleware: an encrypting client, the proxy on port 0 and the
 * fake OpenAI upstream. Spans come from an in-memory exporter of an injected tracer provider;
 * metrics from a real scrape of /metrics.
 */

import { randomBytes } from 'node:crypto'
import { propagation, SpanKind, SpanStatusCode } from '@opentelemetry/api'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import { createEncryptedFetch } from 'continuum-proxy/client'
import { Telemetry } from 'continuum-proxy/telemetry'
import OpenAI from 'openai'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { replyFor, startOpenAIUpstream } from '../kit/openai-echo'
import type { FakeUpstream } from '../kit/server'
import { eventually, type RunningApp, sampleValue, scrape, spanText, startApp } from './helpers'

const key = randomBytes(32)
const exporter = new InMemorySpanExporter()
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
let upstream: FakeUpstream
let app: RunningApp
let client: OpenAI

beforeAll(async () => {
  upstream = await startOpenAIUpstream()
  app = await startApp({
    upstream: upstream.url,
    keys: { keys: [{ id: 'k1', key }] },
    stages: [new Telemetry({ tracing: tracerProvider, provider: 'vllm' })],
  })
  client = new OpenAI({
    baseURL: `${app.origin}/v1`,
    apiKey: 'sk-test',
    fetch: createEncryptedFetch({ keyId: 'k1', key }),
    maxRetries: 0,
  })
})

afterAll(async () => {
  await app.close()
  await upstream.close()
})

beforeEach(() => exporter.reset())

function byName(spans: readonly ReadableSpan[], name: string): ReadableSpan {
  const found = spans.find((span) => span.name === name)
  if (found === undefined) throw new Error(`no span ${name} in ${spans.map((span) => span.name).join(', ')}`)
  return found
}

describe('spans', () => {
  it('records one SERVER span per request with GenAI attributes and phase children, never content', async () => {
    const answer = await client.chat.completions.create({
      model: 'llama-3-8b',
      max_tokens: 64,
      temperature: 0.25,
      messages: [{ role: 'user', content: 'top secret prompt about zebras' }],
    })
    expect(answer.choices[0]?.message.content).toBe(replyFor('top secret prompt about zebras'))
    await eventually(() => exporter.getFinishedSpans().some((span) => span.kind === SpanKind.SERVER))
    const spans = exporter.getFinishedSpans()
    const server = byName(spans, 'chat llama-3-8b')
    expect(server.kind).toBe(SpanKind.SERVER)
    expect(server.instrumentationScope.name).toBe('continuum-proxy')
    expect(server.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'vllm',
      'gen_ai.request.model': 'llama-3-8b',
      'gen_ai.request.max_tokens': 64,
      'gen_ai.request.temperature': 0.25,
      'gen_ai.response.model': 'llama-3-8b',
      'gen_ai.response.id': 'chatcmpl-8f0e5d6c7b1a4c2e9d3f0a1b2c3d4e5f',
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': 42,
      'gen_ai.usage.output_tokens': 15,
      'http.request.method': 'POST',
      'http.response.status_code': 200,
      'continuum.encrypted': true,
      'continuum.key_id': 'k1',
    })
    expect(server.status.code).toBe(SpanStatusCode.UNSET)
    const serverId = server.spanContext().spanId
    for (const name of ['continuum.decrypt', 'continuum.upstream', 'continuum.encrypt']) {
      const child = byName(spans, name)
      expect(child.parentSpanContext?.spanId).toBe(serverId)
      expect(child.spanContext().traceId).toBe(server.spanContext().traceId)
    }
    expect(byName(spans, 'continuum.upstream').kind).toBe(SpanKind.CLIENT)
    expect(byName(spans, 'continuum.decrypt').kind).toBe(SpanKind.INTERNAL)
    const text = spanText(spans)
    expect(text).not.toContain('zebras')
    expect(text).not.toContain('top secret')
  })

  it('continues the trace of an incoming traceparent header', async () => {
    // The W3C propagator, as any SDK setup registers it (core is a dependency of sdk-trace-base).
    propagation.setGlobalPropagator(new W3CTraceContextPropagator())
    try {
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
      const encrypted = createEncryptedFetch({ keyId: 'k1', key })
      const response = await encrypted(`${app.origin}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
        body: JSON.stringify({ model: 'llama-3-8b', messages: [{ role: 'user', content: 'hello' }] }),
      })
      expect(response.status).toBe(200)
      await response.text()
      await eventually(() => exporter.getFinishedSpans().some((span) => span.kind === SpanKind.SERVER))
      const server = byName(exporter.getFinishedSpans(), 'chat llama-3-8b')
      expect(server.spanContext().traceId).toBe(traceId)
      expect(server.parentSpanContext?.spanId).toBe('00f067aa0ba902b7')
    } finally {
      propagation.disable()
    }
  })

  it('keeps the encrypt span open until the stream ends, with the stream facts on the server span', async () => {
    const stream = await client.chat.completions.create({
      model: 'llama-3-8b',
      stream: true,
      messages: [{ role: 'user', content: 'stream the hidden giraffe' }],
    })
    let text = ''
    for await (const part of stream) text += part.choices[0]?.delta.content ?? ''
    expect(text).toBe(replyFor('stream the hidden giraffe'))
    await eventually(() => exporter.getFinishedSpans().some((span) => span.kind === SpanKind.SERVER))
    const spans = exporter.getFinishedSpans()
    const server = byName(spans, 'chat llama-3-8b')
    const encrypt = byName(spans, 'continuum.encrypt')
    const upstreamSpan = byName(spans, 'continuum.upstream')
    expect(encrypt.parentSpanContext?.spanId).toBe(server.spanContext().spanId)
    // The stream outlives the upstream headers: encrypt ends after the upstream span.
    expect(hrtimeNanos(encrypt.endTime)).toBeGreaterThanOrEqual(hrtimeNanos(upstreamSpan.endTime))
    expect(server.attributes).toMatchObject({
      'gen_ai.response.id': 'chatcmpl-2c4e6a8b0d1f4e3a9b7c5d3e1f0a2b4c',
      'gen_ai.response.finish_reasons': ['stop'],
      'continuum.streaming': true,
    })
    expect(spanText(spans)).not.toContain('giraffe')
  })

  it('marks a failed exchange with error.type and an ERROR status, recording the exception by code', async () => {
    await expect(
      client.chat.completions.create({
        model: 'text-500',
        messages: [{ role: 'user', content: 'secret failing prompt' }],
      }),
    ).rejects.toThrow()
    await eventually(() => exporter.getFinishedSpans().some((span) => span.kind === SpanKind.SERVER))
    const spans = exporter.getFinishedSpans()
    const server = byName(spans, 'chat text-500')
    expect(server.attributes['error.type']).toBe('CONTINUUM_UPSTREAM_PROTOCOL_ERROR')
    expect(server.attributes['http.response.status_code']).toBe(502)
    expect(server.status.code).toBe(SpanStatusCode.ERROR)
    const encrypt = byName(spans, 'continuum.encrypt')
    expect(encrypt.status.code).toBe(SpanStatusCode.ERROR)
    expect(encrypt.events.map((event) => event.name)).toContain('exception')
    expect(spanText(spans)).not.toContain('secret failing prompt')
  })

  it('traces a request refused before decryption', async () => {
    const wrongKey = createEncryptedFetch({ keyId: 'k1', key: randomBytes(32) })
    const response = await wrongKey(`${app.origin}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'llama-3-8b', messages: [{ role: 'user', content: 'forged' }] }),
    })
    expect(response.status).toBeGreaterThanOrEqual(400)
    // The client sees only an unauthenticated refusal; the spans say why the server refused.
    const body = (await response.json()) as { error: { code: string } }
    expect(body.error.code).toBe('CONTINUUM_UNAUTHENTICATED_RESPONSE')
    await eventually(() => exporter.getFinishedSpans().some((span) => span.kind === SpanKind.SERVER))
    const spans = exporter.getFinishedSpans()
    const server = byName(spans, 'chat')
    expect(server.attributes['error.type']).toBe('CONTINUUM_INTEGRITY_FAILED')
    expect(byName(spans, 'continuum.decrypt').attributes['error.type']).toBe('CONTINUUM_INTEGRITY_FAILED')
    expect(spans.map((span) => span.name)).not.toContain('continuum.upstream')
  })
})

function hrtimeNanos(time: [number, number]): bigint {
  return BigInt(time[0]) * 1_000_000_000n + BigInt(time[1])
}

describe('metrics endpoint', () => {
  it('serves Prometheus text whose counters move with requests, tokens and errors', async () => {
    const labels = { provider: 'vllm', model: 'llama-3-8b' }
    const before = await scrape(`${app.origin}/metrics`)
    expect(before.contentType).toContain('text/plain')
    await client.chat.completions.create({
      model: 'llama-3-8b',
      messages: [{ role: 'user', content: 'count my tokens' }],
    })
    await expect(
      client.chat.completions.create({ model: 'text-500', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toThrow()
    const after = await scrape(`${app.origin}/metrics`)
    const delta = (name: string, extra: Record<string, string>) =>
      sampleValue(after.samples, name, extra) - sampleValue(before.samples, name, extra)
    expect(
      delta('inference_requests_total', {
        ...labels,
        route: 'openai.chat-completions',
        status: '200',
        outcome: 'success',
      }),
    ).toBe(1)
    expect(delta('inference_tokens_total', { ...labels, direction: 'input' })).toBe(42)
    expect(delta('inference_tokens_total', { ...labels, direction: 'output' })).toBe(15)
    expect(delta('inference_latency_seconds_count', labels)).toBe(1)
    // text-500 was never served, so it takes no model label slot (model-label-slots.test.ts).
    expect(
      delta('inference_errors_total', {
        provider: 'vllm',
        model: 'other',
        error_type: 'CONTINUUM_UPSTREAM_PROTOCOL_ERROR',
      }),
    ).toBe(1)
    expect(delta('inference_requests_total', { model: 'other', status: '502', outcome: 'error' })).toBe(1)
    // Defined up front for the cache and the router, even before they report anything.
    const text = await (await fetch(`${app.origin}/metrics`)).text()
    expect(text).toContain('# TYPE cache_requests_total counter')
    expect(text).toContain('# TYPE circuit_breaker_state gauge')
    expect(text).toContain('# TYPE scanner_detections_total counter')
    expect(text).not.toContain('count my tokens')
  })

  it('leaves other methods on the metrics path to the proxy', async () => {
    const response = await fetch(`${app.origin}/metrics`, { method: 'POST', body: '{}' })
    expect(response.status).not.toBe(200)
  })
})
