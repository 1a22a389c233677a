/**
 * Telemetry overhead per exchange, in process: its two hooks around one exchange and its outcome
 * (four phase timings, request facts, response usage) with metrics only, and with spans recorded by
 * an SDK tracer provider; and the time to render a scrape. The proxy hop's own budget is the
 * reference: telemetry should add microseconds, not milliseconds.
 */
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import type { CoreRequest, Exchange, ExchangeOutcome, ExchangeResponse } from 'continuum-proxy'
import { AdapterRegistry } from 'continuum-proxy'
import { builtinAdapters } from 'continuum-proxy/adapters'
import { Telemetry } from 'continuum-proxy/telemetry'
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

const plainResponse: ExchangeResponse = {
  status: 200,
  headers: { 'content-type': 'application/json' },
  body: { type: 'json', value: response },
}

/** One exchange through the telemetry's hooks, ended as the pipeline ends it. */
async function exchangeOnce(telemetry: Telemetry, now: number): Promise<void> {
  let listener: ((outcome: ExchangeOutcome) => void) | undefined
  const exchange: Exchange = {
    requestId: 'r',
    request,
    route: match,
    query: '',
    body,
    encrypted: true,
    keyId: 'k1',
    streaming: false,
    responseHeaders: {},
    annotations: {},
    startedAt: now,
    onEnd(end) {
      listener = end
    },
  }
  await telemetry.wrapExchange(exchange, () => telemetry.wrapUpstream(exchange, async () => plainResponse))
  listener?.({
    status: 200,
    endedAt: now + 5,
    request: { model: 'llama-3-8b', maxTokens: 64, temperature: undefined },
    response: { id: 'chatcmpl-1', finishReasons: ['stop'], inputTokens: 9, outputTokens: 12 },
    timings: [
      { phase: 'decrypt', start: now, end: now + 1 },
      { phase: 'stage', stage: 'scanner', start: now + 1, end: now + 2 },
      { phase: 'upstream', start: now + 2, end: now + 3 },
      { phase: 'encrypt', start: now + 3, end: now + 4 },
    ],
  })
}

async function microseconds(run: () => Promise<void>, iterations: number): Promise<number[]> {
  for (let index = 0; index < 2000; index++) await run()
  const samples: number[] = []
  for (let index = 0; index < iterations; index++) {
    const started = performance.now()
    await run()
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
    ['exchange, metrics only', await microseconds(() => exchangeOnce(metricsOnly, Date.now()), 20_000)],
    [
      'exchange, metrics + 5 spans (SDK, in-memory exporter)',
      await microseconds(async () => {
        await exchangeOnce(traced, Date.now())
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
