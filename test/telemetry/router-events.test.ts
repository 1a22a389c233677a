/**
 * The router hook: a real InferenceRouter with two in-process providers, one failing. Its events
 * become the breaker gauge, attempt counters and `continuum.route` / `continuum.provider_call`
 * spans nested under the caller's active span (async-hooks context manager).
 */
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { type CanonicalRequest, InferenceRouter } from 'continuum-proxy/router'
import { Telemetry } from 'continuum-proxy/telemetry'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { completingProvider, parseExposition, sampleValue } from './helpers'

const contextManager = new AsyncLocalStorageContextManager()
const exporter = new InMemorySpanExporter()
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })

beforeAll(() => {
  contextManager.enable()
  context.setGlobalContextManager(contextManager)
})

afterAll(() => {
  context.disable()
})

const provider = (id: string, fail: boolean) =>
  completingProvider(id, { fail, content: 'secret answer text' })

describe('router events', () => {
  it('feeds the breaker gauge, attempt counters and nested provider-call spans', async () => {
    const telemetry = new Telemetry({ tracing: tracerProvider })
    const router = new InferenceRouter({
      providers: [provider('flaky', true), provider('steady', false)],
      policy: { type: 'fallback_chain', chain: ['flaky', 'steady'] },
      retry: { maxRetries: 0 },
      breaker: { failureThreshold: 1 },
      onEvent: telemetry.onRouterEvent,
    })
    const request: CanonicalRequest = {
      model: 'llama-3-8b',
      messages: [{ role: 'user', content: 'router secret' }],
    }
    const tracer = tracerProvider.getTracer('test')
    const answer = await tracer.startActiveSpan('request', async (span) => {
      try {
        return await router.complete(request)
      } finally {
        span.end()
      }
    })
    expect(answer.provider).toBe('steady')

    const samples = parseExposition(await telemetry.registry.metrics())
    expect(sampleValue(samples, 'circuit_breaker_state', { provider: 'flaky' })).toBe(2)
    expect(sampleValue(samples, 'router_attempts_total', { provider: 'flaky', outcome: 'error' })).toBe(1)
    expect(sampleValue(samples, 'router_attempts_total', { provider: 'steady', outcome: 'success' })).toBe(1)
    expect(
      sampleValue(samples, 'inference_errors_total', {
        provider: 'flaky',
        error_type: 'CONTINUUM_PROVIDER_UNAVAILABLE',
      }),
    ).toBe(1)

    const spans = exporter.getFinishedSpans()
    const root = spans.find((span) => span.name === 'request')!
    const calls = spans.filter((span) => span.name === 'continuum.provider_call')
    expect(calls).toHaveLength(2)
    for (const call of calls) {
      expect(call.kind).toBe(SpanKind.CLIENT)
      expect(call.parentSpanContext?.spanId).toBe(root.spanContext().spanId)
    }
    const failed = calls.find((call) => call.attributes['gen_ai.provider.name'] === 'flaky')!
    expect(failed.status.code).toBe(SpanStatusCode.ERROR)
    expect(failed.attributes['error.type']).toBe('CONTINUUM_PROVIDER_UNAVAILABLE')
    const route = spans.find((span) => span.name === 'continuum.route')!
    expect(route.parentSpanContext?.spanId).toBe(root.spanContext().spanId)
    expect(JSON.stringify(spans.map((span) => span.attributes))).not.toContain('secret')
    expect(trace.getActiveSpan()).toBeUndefined()
  })

  it('ignores a router event it cannot read', async () => {
    const telemetry = new Telemetry({ tracing: false })
    expect(() =>
      telemetry.onRouterEvent({ type: 'breaker-state', provider: 'x', from: 'closed', to: 'bogus' } as never),
    ).not.toThrow()
  })
})
