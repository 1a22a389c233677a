/**
 * The GenAI metrics users chart, through the router gateway on a real Express socket with the
 * official SDK: read back by an in-memory OpenTelemetry metric reader, and from `/metrics` by a
 * real Prometheus text parser (`parse-prometheus-text-format`, a port of Prometheus's own), by
 * `promtool check metrics` where Debian's prometheus package is installed, and, for the
 * OpenMetrics exposition, by the Python client's strict OpenMetrics parser where it is installed.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import {
  AggregationTemporality,
  type DataPoint,
  type Histogram,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics'
import { anthropic, openai } from 'continuum-proxy/providers'
import { InferenceRouter } from 'continuum-proxy/router'
import { Telemetry } from 'continuum-proxy/telemetry'
import parsePrometheusTextFormat from 'parse-prometheus-text-format'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ANTHROPIC_KEY, anthropicClient, CLAUDE_MODEL, openaiClient } from '../gateway/support'
import { startAnthropicServer } from '../kit/anthropic'
import { startOpenAIDialectServer } from '../kit/openai-dialects'
import type { FakeUpstream } from '../kit/server'
import { parseExposition, type RunningApp, sampleValue, startApp } from './helpers'

/** A reader the test collects from on demand. */
class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE })
  }
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

function hasCommand(command: string, args: string[]): boolean {
  return spawnSync(command, args, { stdio: 'ignore' }).status === 0
}
/**
 * Prometheus's own linter and the official Python client's strict parser check the exposition.
 * scripts/ensure-system-packages.sh installs both (Debian's prometheus and
 * python3-prometheus-client) for `./dev test`; without them the two checks fail naming them.
 */
function promtool(): string {
  if (!hasCommand('promtool', ['--version']))
    throw new Error(
      "promtool not found: install Debian's prometheus package (scripts/ensure-system-packages.sh)",
    )
  return 'promtool'
}
function openMetricsPython(): string {
  const python = ['/usr/bin/python3', 'python3'].find((candidate) =>
    hasCommand(candidate, ['-c', 'import prometheus_client.openmetrics.parser']),
  )
  if (python === undefined)
    throw new Error(
      "no python3 with prometheus_client: install Debian's python3-prometheus-client (scripts/ensure-system-packages.sh)",
    )
  return python
}

let dialect: FakeUpstream
let anthropicFake: FakeUpstream
let router: InferenceRouter
let app: RunningApp
const reader = new TestReader()
const meterProvider = new MeterProvider({ readers: [reader] })

beforeAll(async () => {
  ;[dialect, anthropicFake] = await Promise.all([
    startOpenAIDialectServer(),
    startAnthropicServer(ANTHROPIC_KEY),
  ])
  const telemetry = new Telemetry({ tracing: false, meterProvider, metricPrefix: 'continuum_' })
  router = new InferenceRouter({
    providers: [
      openai({ id: 'openai', apiKey: 'sk-up', baseURL: `${dialect.url}/v1`, models: ['gpt-4o-mini'] }),
      anthropic({ id: 'claude', apiKey: ANTHROPIC_KEY, baseURL: anthropicFake.url, models: [CLAUDE_MODEL] }),
    ],
    onEvent: telemetry.onRouterEvent,
    retry: { maxRetries: 0 },
  })
  app = await startApp({ router, stages: [telemetry] })
  const client = openaiClient(app.origin, false)
  const stream = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'hi' }],
    stream: true,
    stream_options: { include_usage: true },
  })
  for await (const _ of stream) {
    // read to the end
  }
  const responses = await client.responses.create({ model: 'gpt-4o-mini', input: 'hi', stream: true })
  for await (const _ of responses) {
    // read to the end
  }
  await anthropicClient(app.origin, false).messages.create({
    model: CLAUDE_MODEL,
    max_tokens: 64,
    messages: [{ role: 'user', content: 'hi' }],
  })
})

afterAll(async () => {
  await app.close()
  await router.close()
  await Promise.all([dialect.close(), anthropicFake.close()])
  await meterProvider.shutdown()
})

async function otelMetric(name: string): Promise<DataPoint<Histogram>[]> {
  const { resourceMetrics }: { resourceMetrics: ResourceMetrics } = await reader.collect()
  const metric = resourceMetrics.scopeMetrics
    .flatMap((scope) => scope.metrics)
    .find((candidate) => candidate.descriptor.name === name)
  expect(metric, name).toBeDefined()
  return metric!.dataPoints as DataPoint<Histogram>[]
}

function scrape(accept?: string): Promise<Response> {
  return fetch(`${app.origin}/metrics`, accept === undefined ? {} : { headers: { accept } })
}

describe('GenAI metrics on the OpenTelemetry meter', () => {
  it('records server duration with the Responses API under its own operation name', async () => {
    const points = await otelMetric('gen_ai.server.request.duration')
    const operations = points
      .map(
        (point) => `${point.attributes['gen_ai.provider.name']}/${point.attributes['gen_ai.operation.name']}`,
      )
      .sort()
    expect(operations).toEqual(['anthropic/chat', 'openai/chat', 'openai/responses'])
    for (const point of points) expect(point.value.count).toBeGreaterThan(0)
  })

  it('records time to first token for streams only, and time per output token', async () => {
    const ttft = await otelMetric('gen_ai.server.time_to_first_token')
    expect(ttft.map((point) => point.attributes['gen_ai.operation.name']).sort()).toEqual([
      'chat',
      'responses',
    ])
    const chat = ttft.find((point) => point.attributes['gen_ai.operation.name'] === 'chat')!
    expect(chat.value.count).toBe(1)
    // The Anthropic request did not stream: two streams, two samples.
    expect(ttft.reduce((sum, point) => sum + point.value.count, 0)).toBe(2)
    const tpot = await otelMetric('gen_ai.server.time_per_output_token')
    expect(tpot.reduce((sum, point) => sum + point.value.count, 0)).toBe(2)
  })

  it('records client token usage and duration per provider, by token type', async () => {
    const usage = await otelMetric('gen_ai.client.token.usage')
    const key = (point: DataPoint<Histogram>) =>
      `${point.attributes['gen_ai.provider.name']}/${point.attributes['gen_ai.token.type']}`
    expect(usage.map(key).sort()).toEqual(['claude/input', 'claude/output', 'openai/input', 'openai/output'])
    const openaiInput = usage.find((point) => key(point) === 'openai/input')!
    // Chat (11 prompt tokens) and Responses (12 input tokens) answers of the fake.
    expect(openaiInput.value.sum).toBe(23)
    const duration = await otelMetric('gen_ai.client.operation.duration')
    expect(duration.map((point) => point.attributes['gen_ai.provider.name']).sort()).toEqual([
      'claude',
      'openai',
    ])
  })
})

describe('Prometheus exposition', () => {
  it('parses with a Prometheus text parser and holds the GenAI histograms', async () => {
    const response = await scrape()
    expect(response.headers.get('content-type')).toContain('text/plain; version=0.0.4')
    const text = await response.text()
    const families = parsePrometheusTextFormat(text)
    const family = (name: string) => families.find((candidate) => candidate.name === name)
    for (const name of [
      'continuum_gen_ai_client_token_usage',
      'continuum_gen_ai_client_operation_duration_seconds',
      'continuum_gen_ai_server_request_duration_seconds',
      'continuum_gen_ai_server_time_to_first_token_seconds',
      'continuum_gen_ai_server_time_per_output_token_seconds',
    ]) {
      expect(family(name)?.type, name).toBe('HISTOGRAM')
    }
    expect(family('continuum_inference_requests_total')?.type).toBe('COUNTER')
    // That parser keeps no histogram labels; the samples are read line by line.
    const samples = parseExposition(text)
    const counts = samples.filter(
      (sample) => sample.name === 'continuum_gen_ai_server_time_to_first_token_seconds_count',
    )
    expect(counts.map((sample) => sample.labels.gen_ai_operation_name).sort()).toEqual(['chat', 'responses'])
    expect(
      sampleValue(samples, 'continuum_gen_ai_client_token_usage_sum', {
        gen_ai_provider_name: 'claude',
        gen_ai_token_type: 'output',
      }),
    ).toBeGreaterThan(0)
  })

  it('passes promtool check metrics', async () => {
    const text = await (await scrape()).text()
    const result = spawnSync(promtool(), ['check', 'metrics'], { input: text, encoding: 'utf8' })
    expect(`${result.stdout}${result.stderr}`).toBe('')
    expect(result.status).toBe(0)
  })

  it('answers OpenMetrics on Accept: application/openmetrics-text', async () => {
    const response = await scrape('application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5')
    expect(response.headers.get('content-type')).toBe(
      'application/openmetrics-text; version=1.0.0; charset=utf-8',
    )
    const text = await response.text()
    expect(text.endsWith('# EOF\n')).toBe(true)
    // Counter families are named without _total; their samples with it, once.
    expect(text).toContain('# TYPE continuum_inference_requests counter')
    expect(text).toMatch(/^continuum_inference_requests_total\{/m)
    expect(text).not.toContain('_total_total')
  })

  it("passes the Python client's strict OpenMetrics parser", async () => {
    const text = await (await scrape('application/openmetrics-text')).text()
    const families = execFileSync(
      openMetricsPython(),
      [
        '-c',
        'import sys\nfrom prometheus_client.openmetrics.parser import text_string_to_metric_families as parse\nprint("\\n".join(f.name + " " + f.type for f in parse(sys.stdin.read())))',
      ],
      { input: text, encoding: 'utf8' },
    )
    expect(families).toContain('continuum_gen_ai_server_time_to_first_token_seconds histogram')
    expect(families).toContain('continuum_inference_requests counter')
  })

  it('adds process and event-loop metrics only when asked', async () => {
    const registryText = async (telemetry: Telemetry) => telemetry.registry.metrics()
    expect(await registryText(new Telemetry({ tracing: false, meterProvider: false }))).not.toContain(
      'nodejs_eventloop_lag',
    )
    const withProcess = await registryText(
      new Telemetry({ tracing: false, meterProvider: false, processMetrics: true }),
    )
    expect(withProcess).toContain('nodejs_eventloop_lag_seconds')
    expect(withProcess).toContain('process_cpu_user_seconds_total')
  })
})
