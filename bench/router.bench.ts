/**
 * Router benchmarks: the cost of one routing decision per policy (target p99 < 20 µs), and
 * request throughput over three in-process providers, all healthy versus one failing (its
 * breaker opens and the router skips it). Run: `npx tsx bench/run.ts router`.
 */

import { ContinuumError } from 'continuum-proxy'
import type {
  CanonicalRequest,
  CanonicalResponse,
  InferenceProvider,
  ProviderCapabilities,
  RoutingPolicy,
} from 'continuum-proxy/router'
import { InferenceRouter } from 'continuum-proxy/router'
import { fixed, median, quantile } from './stats'

function provider(id: string, overrides: Partial<ProviderCapabilities>, failing = false): InferenceProvider {
  const failure = new ContinuumError('CONTINUUM_PROVIDER_ERROR', `Provider ${id} answered with status 503`, {
    isRetryable: true,
  })
  return {
    specificationVersion: 'v1',
    id,
    capabilities: {
      models: [],
      contextWindow: 128_000,
      streaming: true,
      tools: true,
      vision: false,
      embeddings: false,
      latencyMs: { p50: 100, p99: 400 },
      costPerMillion: { input: 1, output: 2 },
      local: false,
      ...overrides,
    },
    async complete(request: CanonicalRequest): Promise<CanonicalResponse> {
      if (failing) throw failure
      return {
        id: 'r',
        model: request.model,
        provider: id,
        content: 'ok',
        toolCalls: [],
        finishReason: 'stop',
        usage: { inputTokens: 20, outputTokens: 5 },
      }
    },
    async *stream() {
      yield { type: 'finish', finishReason: 'stop' } as const
    },
    async embed() {
      throw new ContinuumError('CONTINUUM_NOT_SUPPORTED', 'no embeddings')
    },
    async health() {
      return { status: 'healthy' }
    },
  }
}

const request: CanonicalRequest = {
  model: 'gpt-4o',
  system: 'You are a helpful assistant.',
  messages: [
    { role: 'user', content: 'Summarise the attached quarterly report in three bullet points.' },
    { role: 'assistant', content: 'Sure, please paste the report.' },
    { role: 'user', content: 'Revenue grew 12% while costs were flat; churn dropped to 2%.' },
  ],
  maxTokens: 200,
  metadata: { classification: 'internal' },
}

function fleet(count: number, failingFirst = false): InferenceProvider[] {
  return Array.from({ length: count }, (_, index) =>
    provider(
      `p${index}`,
      {
        local: index === count - 1,
        costPerMillion: { input: 1 + index, output: 2 + index },
        latencyMs: { p50: 50 + 30 * index, p99: 400 },
      },
      failingFirst && index === 0,
    ),
  )
}

async function decisionCost(policy: RoutingPolicy, providers: number): Promise<string> {
  const router = new InferenceRouter({ providers: fleet(providers), policy, aliases: {} })
  for (let index = 0; index < 20_000; index += 1) await router.explain(request)
  const samples: number[] = []
  for (let index = 0; index < 50_000; index += 1) {
    const started = process.hrtime.bigint()
    await router.explain(request)
    samples.push(Number(process.hrtime.bigint() - started) / 1000)
  }
  return `| ${policy.type} | ${providers} | ${fixed(median(samples), 2)} | ${fixed(quantile(samples, 0.99), 2)} |`
}

async function throughput(label: string, failingFirst: boolean): Promise<string> {
  const router = new InferenceRouter({
    providers: fleet(3, failingFirst),
    policy: { type: 'cloud_first' },
    retry: { maxRetries: 0 },
    breaker: { failureThreshold: 5, cooldownMs: 60_000 },
  })
  const total = 60_000
  const concurrency = 64
  const latencies: number[] = []
  let next = 0
  let failures = 0
  const worker = async (): Promise<void> => {
    while (next < total) {
      next += 1
      const started = process.hrtime.bigint()
      try {
        await router.complete(request)
      } catch {
        failures += 1
      }
      latencies.push(Number(process.hrtime.bigint() - started) / 1000)
    }
  }
  const started = performance.now()
  await Promise.all(Array.from({ length: concurrency }, worker))
  const seconds = (performance.now() - started) / 1000
  const breaker = (await router.explain(request)).candidates[0]!.breaker
  return `| ${label} | ${total} | ${fixed(total / seconds, 0)} | ${fixed(median(latencies), 1)} | ${fixed(quantile(latencies, 0.99), 1)} | ${failures} | p0 ${breaker} |`
}

export default async function (): Promise<void> {
  console.log('Routing decision (`router.explain`, includes validation and plan building), µs per request:\n')
  console.log('| policy | providers | p50 µs | p99 µs |\n|---|---|---|---|')
  const policies: RoutingPolicy[] = [
    { type: 'cloud_first' },
    { type: 'classification_based' },
    { type: 'cost_optimized', maxCostPerMillion: 10 },
    { type: 'latency_optimized' },
    { type: 'weighted', weights: { p0: 3, p1: 1 } },
    { type: 'least_busy' },
  ]
  for (const policy of policies) console.log(await decisionCost(policy, 3))
  console.log(await decisionCost({ type: 'cost_optimized' }, 8))

  console.log(
    '\nThroughput, 3 in-process providers, 64 concurrent callers, no retries (latency µs per request):\n',
  )
  console.log(
    '| scenario | requests | requests/s | p50 µs | p99 µs | failed | first provider breaker |\n|---|---|---|---|---|---|---|',
  )
  console.log(await throughput('all healthy', false))
  console.log(await throughput('first provider failing (breaker opens)', true))
}
