/**
 * Span nesting through the router gateway: the router's provider-call span is a child of the
 * request's `continuum.upstream` span, in the request's trace, because the pipeline runs the
 * upstream call inside the telemetry's context.
 */
import { context, SpanKind } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { InferenceRouter } from 'continuum-proxy/router'
import { Telemetry } from 'continuum-proxy/telemetry'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { completingProvider, type RunningApp, spanText, startApp } from './helpers'

const contextManager = new AsyncLocalStorageContextManager()
const exporter = new InMemorySpanExporter()
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
let app: RunningApp

const local = completingProvider('local', { models: ['llama-3-8b'], content: 'nested answer' })

beforeAll(async () => {
  contextManager.enable()
  context.setGlobalContextManager(contextManager)
  const telemetry = new Telemetry({ tracing: tracerProvider })
  const router = new InferenceRouter({
    providers: [local],
    policy: { type: 'local_only' },
    onEvent: telemetry.onRouterEvent,
  })
  app = await startApp({ router, stages: [telemetry] })
})

afterAll(async () => {
  await app.close()
  context.disable()
})

describe('gateway spans', () => {
  it('nest the provider call under the request span', async () => {
    const client = new OpenAI({ baseURL: `${app.origin}/v1`, apiKey: 'unused' })
    const answer = await client.chat.completions.create({
      model: 'llama-3-8b',
      messages: [{ role: 'user', content: 'span secret question' }],
    })
    expect(answer.choices[0]?.message.content).toBe('nested answer')
    const spans = exporter.getFinishedSpans()
    const server = spans.find((span) => span.kind === SpanKind.SERVER)!
    const upstream = spans.find((span) => span.name === 'continuum.upstream')!
    const providerCall = spans.find((span) => span.name === 'continuum.provider_call')!
    expect(server).toBeDefined()
    expect(providerCall).toBeDefined()
    expect(providerCall.spanContext().traceId).toBe(server.spanContext().traceId)
    expect(providerCall.parentSpanContext?.spanId).toBe(upstream.spanContext().spanId)
    expect(upstream.parentSpanContext?.spanId).toBe(server.spanContext().spanId)
    expect(spanText(spans)).not.toContain('span secret')
    expect(spanText(spans)).not.toContain('nested answer')
  })
})
