import { InferenceRouter } from 'continuum-proxy/router'
import { describe, expect, it } from 'vitest'
import { chat, FakeProvider } from './fake-provider'

const cloudA = () =>
  new FakeProvider('openai', {
    capabilities: { costPerMillion: { input: 5, output: 15 }, latencyMs: { p50: 300, p99: 900 } },
  })
const cloudB = () =>
  new FakeProvider('azure', {
    capabilities: { costPerMillion: { input: 2, output: 8 }, latencyMs: { p50: 500, p99: 900 } },
  })
const local = () =>
  new FakeProvider('vllm', {
    capabilities: {
      local: true,
      costPerMillion: { input: 0, output: 0 },
      latencyMs: { p50: 50, p99: 200 },
      embeddings: false,
    },
  })

const order = async (router: InferenceRouter, request = chat()) =>
  (await router.explain(request)).candidates.map((candidate) => candidate.provider)

describe('routing policies', () => {
  it('cloud_first puts cloud providers first and local ones as fallback, unless disabled', async () => {
    const providers = [local(), cloudA(), cloudB()]
    expect(await order(new InferenceRouter({ providers, policy: { type: 'cloud_first' } }))).toEqual([
      'openai',
      'azure',
      'vllm',
    ])
    const strict = new InferenceRouter({ providers, policy: { type: 'cloud_first', fallbackToLocal: false } })
    const plan = await strict.explain(chat())
    expect(plan.candidates.map((candidate) => candidate.provider)).toEqual(['openai', 'azure'])
    expect(plan.excluded).toContainEqual({ provider: 'vllm', reason: 'local fallback disabled' })
  })

  it('local_only never plans a cloud provider, and fails when none is local', async () => {
    expect(
      await order(new InferenceRouter({ providers: [cloudA(), local()], policy: { type: 'local_only' } })),
    ).toEqual(['vllm'])
    const router = new InferenceRouter({ providers: [cloudA()], policy: { type: 'local_only' } })
    await expect(router.complete(chat())).rejects.toMatchObject({
      code: 'CONTINUUM_NO_PROVIDER_AVAILABLE',
      status: 503,
    })
  })

  it('classification_based keeps confidential data local, using metadata or the pluggable classifier', async () => {
    const seen: string[] = []
    const router = new InferenceRouter({
      providers: [cloudA(), local()],
      policy: { type: 'classification_based' },
      classifier: async (request) => {
        const text = String(request.messages[0]?.content)
        seen.push('classified')
        return text.includes('ssn') ? 'restricted' : 'public'
      },
    })
    expect(await order(router, chat('m', { messages: [{ role: 'user', content: 'my ssn is' }] }))).toEqual([
      'vllm',
    ])
    expect(await order(router, chat('m', { messages: [{ role: 'user', content: 'weather' }] }))).toEqual([
      'openai',
      'vllm',
    ])
    const declared = await router.explain(chat('m', { metadata: { classification: 'confidential' } }))
    expect(declared.classification).toBe('confidential')
    expect(declared.candidates.map((candidate) => candidate.provider)).toEqual(['vllm'])
    expect(seen).toHaveLength(2)
    const answer = await router.complete(chat('m', { messages: [{ role: 'user', content: 'ssn 123' }] }))
    expect(answer.provider).toBe('vllm')
  })

  it('classification_based fails closed when the classifier throws', async () => {
    const router = new InferenceRouter({
      providers: [cloudA(), local()],
      policy: { type: 'classification_based', localFor: ['restricted'] },
      classifier: () => {
        throw new Error('classifier down')
      },
    })
    const plan = await router.explain(chat())
    expect(plan.classification).toBe('restricted')
    expect(plan.candidates.map((candidate) => candidate.provider)).toEqual(['vllm'])
  })

  it('cost_optimized orders by estimated cost and drops providers over the cap', async () => {
    const providers = [cloudA(), cloudB(), local()]
    expect(await order(new InferenceRouter({ providers, policy: { type: 'cost_optimized' } }))).toEqual([
      'vllm',
      'azure',
      'openai',
    ])
    const capped = new InferenceRouter({
      providers,
      policy: { type: 'cost_optimized', maxCostPerMillion: 6 },
    })
    const plan = await capped.explain(chat())
    expect(plan.candidates.map((candidate) => candidate.provider)).toEqual(['vllm', 'azure'])
    expect(plan.excluded[0]).toMatchObject({ provider: 'openai' })
    expect(plan.candidates[0]!.reason).toMatch(/estimated cost \$0\.000000/)
  })

  it('latency_optimized uses measured latency (EWMA) over the static numbers', async () => {
    let now = 0
    const slowLocal = local()
    slowLocal.setSteps([
      async (request) => {
        now += 2000
        return {
          id: 'x',
          model: request.model,
          provider: 'vllm',
          content: '',
          toolCalls: [],
          finishReason: 'stop',
        }
      },
    ])
    const router = new InferenceRouter({
      providers: [cloudA(), slowLocal],
      policy: { type: 'latency_optimized' },
      clock: { now: () => now },
      latencySmoothing: 1,
    })
    expect(await order(router)).toEqual(['vllm', 'openai'])
    await router.complete(chat())
    const plan = await router.explain(chat())
    expect(plan.candidates.map((candidate) => candidate.provider)).toEqual(['openai', 'vllm'])
    expect(plan.candidates[1]!.reason).toBe('latency 2000 ms (measured)')
    const capped = new InferenceRouter({
      providers: [cloudA(), cloudB()],
      policy: { type: 'latency_optimized', maxLatencyMs: 400 },
    })
    expect(await order(capped)).toEqual(['openai'])
  })

  it('weighted draws providers in proportion to their weights with the injected random source', async () => {
    const draws = [0.1, 0.9, 0.5]
    let index = 0
    const router = new InferenceRouter({
      providers: [cloudA(), cloudB(), local()],
      policy: { type: 'weighted', weights: { openai: 3, azure: 1, vllm: 0 } },
      random: () => draws[index++ % draws.length]!,
    })
    const plan = await router.explain(chat())
    // 0.1 * 4 = 0.4 < 3 -> openai first; then only azure remains.
    expect(plan.candidates.map((candidate) => candidate.provider)).toEqual(['openai', 'azure'])
    expect(plan.excluded).toContainEqual({ provider: 'vllm', reason: 'weight 0' })
    const second = await router.explain(chat())
    // 0.9 * 4 = 3.6 >= 3 -> azure first.
    expect(second.candidates[0]!.provider).toBe('azure')
  })

  it('least_busy prefers the provider with fewer requests in flight', async () => {
    const busy = cloudA()
    busy.setSteps(['hang'])
    const router = new InferenceRouter({ providers: [busy, cloudB()], policy: { type: 'least_busy' } })
    expect(await order(router)).toEqual(['openai', 'azure'])
    const controller = new AbortController()
    const pending = router.complete(chat('m', { signal: controller.signal }))
    await new Promise((resolve) => setImmediate(resolve))
    expect(await order(router)).toEqual(['azure', 'openai'])
    controller.abort()
    await expect(pending).rejects.toMatchObject({ code: 'CONTINUUM_CLIENT_ABORTED' })
  })

  it('fallback_chain follows the explicit chain, per model when given', async () => {
    const router = new InferenceRouter({
      providers: [cloudA(), cloudB(), local()],
      policy: { type: 'fallback_chain', chain: ['azure', 'vllm'], byModel: { special: ['vllm', 'openai'] } },
    })
    expect(await order(router)).toEqual(['azure', 'vllm'])
    expect(await order(router, chat('special'))).toEqual(['vllm', 'openai'])
  })

  it('fallback_chain reads byModel for the models it names, never for an inherited property', async () => {
    // Providers that list no model serve any name the caller writes, `constructor` included.
    const router = new InferenceRouter({
      providers: [cloudA(), cloudB(), local()],
      policy: { type: 'fallback_chain', chain: ['azure', 'vllm'], byModel: { special: ['vllm'] } },
    })
    for (const model of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      expect(await order(router, chat(model))).toEqual(['azure', 'vllm'])
      expect((await router.complete(chat(model))).provider).toBe('azure')
    }
  })

  it('maps an alias to provider-specific model names and only routes to the listed providers', async () => {
    const openai = cloudA()
    const azure = cloudB()
    azure.setSteps([new Error('boom')])
    const router = new InferenceRouter({
      providers: [azure, openai, local()],
      aliases: { 'gpt-4o': { azure: 'my-deployment', openai: 'gpt-4o-2024' } },
      retry: { maxRetries: 0 },
    })
    const plan = await router.explain(chat('gpt-4o'))
    expect(plan.candidates.map(({ provider, model }) => [provider, model])).toEqual([
      ['azure', 'my-deployment'],
      ['openai', 'gpt-4o-2024'],
    ])
    const answer = await router.complete(chat('gpt-4o'))
    expect(answer.provider).toBe('openai')
    expect(azure.calls[0]!.model).toBe('my-deployment')
    expect(openai.calls[0]!.model).toBe('gpt-4o-2024')
  })

  it('filters by model list and capabilities, with clear errors', async () => {
    const onlyMini = new FakeProvider('mini', { capabilities: { models: ['mini'], tools: false } })
    const router = new InferenceRouter({ providers: [onlyMini, local()], policy: { type: 'cloud_first' } })
    await expect(
      router.complete(chat('mini', { tools: [{ name: 'f', parameters: {} }] })),
    ).resolves.toMatchObject({
      provider: 'vllm',
    })
    const strict = new InferenceRouter({ providers: [onlyMini] })
    await expect(strict.complete(chat('other'))).rejects.toMatchObject({
      code: 'CONTINUUM_MODEL_NOT_FOUND',
      status: 404,
    })
    await expect(
      strict.complete(chat('mini', { tools: [{ name: 'f', parameters: {} }] })),
    ).rejects.toMatchObject({
      code: 'CONTINUUM_NOT_SUPPORTED',
    })
    await expect(
      new InferenceRouter({ providers: [local()] }).embed({ model: 'm', input: ['a'] }),
    ).rejects.toMatchObject({
      code: 'CONTINUUM_NOT_SUPPORTED',
    })
  })

  it('lists models for /v1/models from aliases and provider model lists', () => {
    const router = new InferenceRouter({
      providers: [
        new FakeProvider('a', { capabilities: { models: ['m1', 'm2'] } }),
        new FakeProvider('b', { capabilities: { models: ['m2'] } }),
      ],
      aliases: { fast: { b: 'm2' } },
    })
    expect(router.models()).toEqual([
      { id: 'fast', providers: ['b'] },
      { id: 'm1', providers: ['a'] },
      { id: 'm2', providers: ['a', 'b'] },
    ])
  })

  it('rejects bad options and bad requests with stable codes', async () => {
    expect(() => new InferenceRouter({ providers: [] })).toThrow(/providers must be a non-empty array/)
    expect(() => new InferenceRouter({ providers: [cloudA(), cloudA()] })).toThrow(/duplicate/)
    expect(
      () =>
        new InferenceRouter({ providers: [cloudA()], policy: { type: 'fallback_chain', chain: ['nope'] } }),
    ).toThrow(/policy.chain names unknown provider "nope"/)
    expect(() => new InferenceRouter({ providers: [cloudA()], retry: { maxRetries: -1 } })).toThrow(
      expect.objectContaining({ code: 'CONTINUUM_INVALID_OPTIONS' }),
    )
    const router = new InferenceRouter({ providers: [cloudA()] })
    await expect(router.complete({ model: '', messages: [] })).rejects.toMatchObject({
      code: 'CONTINUUM_SCHEMA_VIOLATION',
    })
    await expect(
      router.complete({ model: 'm', messages: [{ role: 'robot', content: 'x' }] } as never),
    ).rejects.toMatchObject({
      code: 'CONTINUUM_SCHEMA_VIOLATION',
      message: 'request.messages[0].role: must be system, user, assistant or tool',
    })
  })
})
