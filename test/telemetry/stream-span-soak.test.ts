/**
 * Soak: 10,000 streamed requests through the router gateway with telemetry on, the proxy's own
 * pipeline (createProxy's handler, the stage hooks, the gateway upstream, the stream encoder) and
 * a real tracer provider with an async-hooks context manager, as an application runs them. Every
 * `continuum.provider_call` span that starts must end, and the heap must stay flat. Before the
 * fix, the end of a stream (reported outside the request's context) never found its span: 300
 * streamed requests left 302 live spans. A stream the client abandons ends its span too.
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { context } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { BasicTracerProvider, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base'
import { type CoreResponse, createProxy } from 'continuum-proxy'
import { builtinAdapters } from 'continuum-proxy/adapters'
import { type InferenceProvider, InferenceRouter } from 'continuum-proxy/router'
import { Telemetry } from 'continuum-proxy/telemetry'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** Counts provider-call spans as they start and end, keeping none of them. */
class CountingProcessor implements SpanProcessor {
  started = 0
  ended = 0
  cancelled = 0
  onStart(span: { name?: string }): void {
    if (span.name === 'continuum.provider_call') this.started++
  }
  onEnd(span: ReadableSpan): void {
    if (span.name !== 'continuum.provider_call') return
    this.ended++
    if (span.attributes['error.type'] === 'cancelled') this.cancelled++
  }
  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

/** An in-process provider that streams a short answer. */
const streaming: InferenceProvider = {
  specificationVersion: 'v1',
  id: 'local',
  capabilities: {
    models: ['soak-model'],
    contextWindow: 8192,
    streaming: true,
    tools: false,
    vision: false,
    embeddings: false,
    latencyMs: { p50: 1, p99: 5 },
    costPerMillion: { input: 0, output: 0 },
    local: true,
  },
  async complete() {
    throw new Error('not used')
  },
  async *stream() {
    yield { type: 'text-delta', text: 'Hello' }
    yield { type: 'text-delta', text: ' there' }
    yield { type: 'usage', usage: { inputTokens: 3, outputTokens: 2 } }
    yield { type: 'finish', finishReason: 'stop' }
  },
  async embed() {
    throw new Error('not used')
  },
  async health() {
    return { status: 'healthy' }
  },
}

const contextManager = new AsyncLocalStorageContextManager()
const processor = new CountingProcessor()
const tracerProvider = new BasicTracerProvider({ spanProcessors: [processor] })
const telemetry = new Telemetry({ tracing: tracerProvider, meterProvider: false })
const router = new InferenceRouter({ providers: [streaming], onEvent: telemetry.onRouterEvent })
const proxy = createProxy({ adapters: builtinAdapters(), router, stages: [telemetry] })
const body = JSON.stringify({
  model: 'soak-model',
  stream: true,
  messages: [{ role: 'user', content: 'hello' }],
})

function request(): Promise<CoreResponse | undefined> {
  return proxy.handle({
    method: 'POST',
    url: '/v1/chat/completions',
    headers: { 'content-type': 'application/json' },
    body: { kind: 'bytes', bytes: Buffer.from(body) },
    signal: new AbortController().signal,
  })
}

/** Runs `count` streamed requests, `parallel` at a time, reading each stream to its end. */
async function run(count: number, parallel = 16): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < count) {
      next++
      const response = await request()
      expect(response?.status).toBe(200)
      let text = ''
      for await (const chunk of response!.body as AsyncIterable<Uint8Array>)
        text += Buffer.from(chunk).toString()
      if (!text.endsWith('data: [DONE]\n\n')) throw new Error('a stream did not finish')
    }
  }
  await Promise.all(Array.from({ length: parallel }, worker))
}

function heapAfterGc(): number {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

beforeAll(() => {
  contextManager.enable()
  context.setGlobalContextManager(contextManager)
})

afterAll(async () => {
  await proxy.close()
  await router.close()
  context.disable()
})

describe('streamed gateway requests with telemetry', () => {
  it('end every provider-call span over 10,000 streams, with a flat heap', async () => {
    await run(1_000)
    const warm = heapAfterGc()
    await run(9_000)
    const after = heapAfterGc()
    expect(processor.started).toBe(10_000)
    expect(processor.ended).toBe(10_000)
    // A leaked span with its attributes and context weighs over a kilobyte: 9,000 of them would
    // show as 10 MB and more. The allowance covers the allocator's own drift.
    expect(after - warm).toBeLessThan(4 * 1024 * 1024)
  }, 120_000)

  it('end the span of a stream the client abandons, as cancelled', async () => {
    const before = { started: processor.started, ended: processor.ended, cancelled: processor.cancelled }
    for (let index = 0; index < 100; index++) {
      const response = await request()
      const iterator = (response!.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]()
      await iterator.next()
      await iterator.return?.()
    }
    expect(processor.started - before.started).toBe(100)
    expect(processor.ended - before.ended).toBe(100)
    expect(processor.cancelled - before.cancelled).toBe(100)
  })
})
