/**
 * Telemetry overhead per exchange, in process: one observation (four phases, the decrypted
 * request, a response body with usage, the outcome) with metrics only, and with spans recorded by
 * an SDK tracer provider; and the time to render a scrape. The proxy hop's own budget is the
 * reference: telemetry should add microseconds, not milliseconds.
 */
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { builtinAdapters } from '../adapters/builtin'
import type { CoreRequest } from '../src/core/http'
import { AdapterRegistry } from '../src/protocol/registry'
import type { Exchange } from '../src/proxy/stage'
import { Telemetry } from '../src/telemetry'
import { fixed, median, quantile } from './stats'

const lookup = new AdapterRegistry(builtinAdapters()).lookup('POST', '/v1/chat/completions')
if (lookup.kind !== 'match') throw new Error('no chat route')
const match = lookup.match
const request: CoreRequest = {
  method: 'POST',
  url: '/v1/chat/completions',
  headers: { 'content-type': 'application/json' },
  body: { kind: 'empty' },
  signal: new AbortController().signal,
}
const body = { model: 'llama-3-8b', max_tokens: 64, messages: [{ role: 'user', content: 'hello' }] }
const response = {
  id: 'chatcmpl-1',
  model: 'llama-3-8b',
  choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'hi' } }],
  usage: { prompt_tokens: 9, completion_tokens: 12 },
}

function exchangeOnce(telemetry: Telemetry, now: number): void {
  const observation = telemetry.observe(request, match)
  for (const phase of ['decrypt', 'stage', 'upstream', 'encrypt'] as const)
    observation.phase(phase, 'scanner')()
  const exchange: Exchange = {
    requestId: 'r',
    method: 'POST',
    match,
    body,
    encrypted: true,
    keyId: 'k1',
    headers: request.headers,
    streaming: false,
    responseHeaders: {},
    annotations: {},
    startedAt: now,
  }
  observation.accepted(exchange)
  observation.upstreamEvent(response)
  observation.end({ status: 200, endedAt: now + 5 })
}

function microseconds(run: () => void, iterations: number): number[] {
  for (let index = 0; index < 2000; index++) run()
  const samples: number[] = []
  for (let index = 0; index < iterations; index++) {
    const started = performance.now()
    run()
    samples.push((performance.now() - started) * 1000)
  }
  return samples
}

export default async function (): Promise<void> {
  const metricsOnly = new Telemetry({ tracing: false })
  const exporter = new InMemorySpanExporter()
  const traced = new Telemetry({
    tracing: new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  })
  let count = 0
  const rows: Array<[string, number[]]> = [
    ['exchange, metrics only', microseconds(() => exchangeOnce(metricsOnly, Date.now()), 20_000)],
    [
      'exchange, metrics + 5 spans (SDK, in-memory exporter)',
      microseconds(() => {
        exchangeOnce(traced, Date.now())
        if (++count % 1000 === 0) exporter.reset()
      }, 20_000),
    ],
  ]
  const scrapes: number[] = []
  for (let index = 0; index < 200; index++) {
    const started = performance.now()
    await metricsOnly.registry.metrics()
    scrapes.push((performance.now() - started) * 1000)
  }
  rows.push(['render /metrics (one model, one route)', scrapes])
  console.log('| Telemetry | median µs | p99 µs |')
  console.log('| --- | ---: | ---: |')
  for (const [name, samples] of rows) {
    console.log(`| ${name} | ${fixed(median(samples), 1)} | ${fixed(quantile(samples, 0.99), 1)} |`)
  }
}
