/** Shared fixtures for the telemetry and stage tests: an Express app around the proxy, scrapes, spans. */
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import type { ProxyOptions } from 'continuum-proxy'
import { ContinuumError } from 'continuum-proxy'
import type { InferenceProvider } from 'continuum-proxy/router'
import { startExpressProxy } from '../adapters/harness'

export interface RunningApp {
  /** `http://127.0.0.1:<port>` */
  origin: string
  close(): Promise<void>
}

/** Serves the Express middleware with these proxy options on 127.0.0.1 port 0. */
export async function startApp(options: ProxyOptions): Promise<RunningApp> {
  const proxy = await startExpressProxy(options)
  return { origin: proxy.url, close: () => proxy.close() }
}

/** One sample of a Prometheus text exposition. */
export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

/** Parses the Prometheus text format (enough of it for prom-client's output). */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (match === null) throw new Error(`unparseable exposition line: ${line}`)
    const labels: Record<string, string> = {}
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1] as string] = pair[2] as string
    }
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) })
  }
  return samples
}

/** Scrapes a metrics endpoint over HTTP. */
export async function scrape(url: string): Promise<{ contentType: string; samples: Sample[] }> {
  const response = await fetch(url)
  if (response.status !== 200) throw new Error(`scrape answered ${response.status}`)
  return {
    contentType: response.headers.get('content-type') ?? '',
    samples: parseExposition(await response.text()),
  }
}

/** The value of the sample with this name whose labels include `labels`; 0 when there is none. */
export function sampleValue(
  samples: readonly Sample[],
  name: string,
  labels: Record<string, string> = {},
): number {
  const found = samples.filter(
    (sample) =>
      sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  )
  return found.reduce((sum, sample) => sum + sample.value, 0)
}

/** Everything a span exposes to an exporter, as one string: to check that no content leaked. */
export function spanText(spans: readonly ReadableSpan[]): string {
  return JSON.stringify(
    spans.map((span) => ({
      name: span.name,
      attributes: span.attributes,
      events: span.events,
      status: span.status,
      links: span.links,
    })),
  )
}

/** Waits until the predicate holds (spans and audit records land just after the response ends). */
export async function eventually(predicate: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/**
 * An in-process provider answering `complete()` with `content`, or failing with a retryable
 * CONTINUUM_PROVIDER_UNAVAILABLE; the other calls are unused by these tests.
 */
export function completingProvider(
  id: string,
  options: { content?: string; fail?: boolean; models?: string[] } = {},
): InferenceProvider {
  return {
    specificationVersion: 'v1',
    id,
    capabilities: {
      models: options.models ?? [],
      contextWindow: 8192,
      streaming: false,
      tools: false,
      vision: false,
      embeddings: false,
      latencyMs: { p50: 10, p99: 50 },
      costPerMillion: { input: 0, output: 0 },
      local: true,
    },
    async complete(request) {
      if (options.fail === true) {
        throw new ContinuumError('CONTINUUM_PROVIDER_UNAVAILABLE', `Provider ${id} unavailable`)
      }
      return {
        id: 'resp-1',
        model: request.model,
        provider: id,
        content: options.content ?? 'answer',
        toolCalls: [],
        finishReason: 'stop',
        usage: { inputTokens: 3, outputTokens: 4 },
      }
    },
    stream() {
      throw new Error('not used')
    },
    async embed() {
      throw new Error('not used')
    },
    async health() {
      return { status: 'healthy' }
    },
  }
}
