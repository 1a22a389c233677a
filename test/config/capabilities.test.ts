/**
 * Provider capabilities from configuration files: every capability the router routes on (models,
 * embeddings, vision, tools, streaming, context window, costs, latency, local) is settable from
 * TOML and JSON and validated, and a model name no provider declares is a 404 unless one declares
 * `models = ["*"]`. The providers are the real built-in types against fakes on real sockets.
 */
import { ContinuumError } from 'continuum-proxy'
import { builtinProviderTypes } from 'continuum-proxy/providers'
import { InferenceRouter, loadRouterConfig } from 'continuum-proxy/router'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openaiDialect, startOpenAIServer } from '../kit/openai'
import type { FakeUpstream } from '../kit/server'

let fake: FakeUpstream

beforeAll(async () => {
  fake = await startOpenAIServer(openaiDialect(undefined), 'openai')
})

afterAll(async () => {
  await fake.close()
})

/** Loads a TOML document given as text. */
function loadToml(text: string) {
  return loadRouterConfig('/etc/continuum/router.toml', {
    providerTypes: builtinProviderTypes(),
    readFile: async () => text,
    env: {},
  })
}

async function failure(promise: Promise<unknown>): Promise<ContinuumError> {
  try {
    await promise
  } catch (error) {
    if (ContinuumError.isInstance(error)) return error
    throw error
  }
  throw new Error('expected a failure')
}

const chat = (model: string) => ({ model, messages: [{ role: 'user' as const, content: 'hi' }] })

describe('provider capabilities from configuration', () => {
  it('sets every capability from TOML, and an openai_compatible provider serves embeddings', async () => {
    const options = await loadToml(`
[inference.providers.compat]
type = "openai_compatible"
endpoint = "${fake.url}/v1"
models = ["text-embedding-3-small", "qwen"]
embeddings = true
vision = true
tools = false
streaming = false
context_window = 8192
cost_per_million_input = 0.25
cost_per_million_output = 1.5
latency_p50_ms = 120
latency_p99_ms = 900
local = true
`)
    const router = new InferenceRouter(options)
    const plan = await router.explain(chat('qwen'))
    expect(plan.candidates.map((candidate) => candidate.provider)).toEqual(['compat'])
    const provider = options.providers[0]!
    expect(provider.capabilities).toMatchObject({
      models: ['text-embedding-3-small', 'qwen'],
      embeddings: true,
      vision: true,
      tools: false,
      streaming: false,
      contextWindow: 8192,
      costPerMillion: { input: 0.25, output: 1.5 },
      latencyMs: { p50: 120, p99: 900 },
      local: true,
    })
    const embedded = await router.embed({ model: 'text-embedding-3-small', input: ['hello', 'world'] })
    expect(embedded.embeddings[0]!.length).toBeGreaterThan(0)
    expect(fake.requests.at(-1)!.url).toBe('/v1/embeddings')
    // Capabilities the provider lacks keep requests away from it.
    const tools = await failure(
      router.complete({ ...chat('qwen'), tools: [{ name: 'f', parameters: { type: 'object' } }] }),
    )
    expect(tools.code).toBe('CONTINUUM_NOT_SUPPORTED')
    expect(tools.message).toContain('compat does not support tools')
    await router.close()
  })

  it('takes the same keys from JSON', async () => {
    const options = await loadRouterConfig(
      {
        inference: {
          providers: {
            compat: {
              type: 'openai_compatible',
              endpoint: `${fake.url}/v1`,
              models: ['*'],
              embeddings: true,
            },
          },
        },
      },
      { providerTypes: builtinProviderTypes() },
    )
    expect(options.providers[0]!.capabilities.embeddings).toBe(true)
  })

  it('an unknown model is a 404 unless a provider declares models = ["*"]', async () => {
    const strict = new InferenceRouter(
      await loadToml(`
[inference.aliases.fast]
compat = "qwen"

[inference.providers.compat]
type = "openai_compatible"
endpoint = "${fake.url}/v1"
models = ["qwen"]
`),
    )
    const typo = await failure(strict.complete(chat('qwne')))
    expect(typo).toMatchObject({ code: 'CONTINUUM_MODEL_NOT_FOUND', status: 404 })
    await expect(strict.complete(chat('qwen'))).resolves.toMatchObject({ provider: 'compat' })
    await expect(strict.complete(chat('fast'))).resolves.toMatchObject({ provider: 'compat' })
    expect(strict.models().map((model) => model.id)).toEqual(['fast', 'qwen'])
    await strict.close()

    const open = new InferenceRouter(
      await loadToml(`
[inference.providers.compat]
type = "openai_compatible"
endpoint = "${fake.url}/v1"
models = ["*"]
`),
    )
    await expect(open.complete(chat('anything-at-all'))).resolves.toMatchObject({ provider: 'compat' })
    // The wildcard is no model name: lists show only real names.
    expect(open.models()).toEqual([])
    await open.close()

    const aliasOnly = new InferenceRouter(
      await loadToml(`
[inference.aliases.fast]
compat = "qwen"

[inference.providers.compat]
type = "openai_compatible"
endpoint = "${fake.url}/v1"
`),
    )
    await expect(aliasOnly.complete(chat('fast'))).resolves.toMatchObject({ provider: 'compat' })
    expect((await failure(aliasOnly.complete(chat('qwen')))).code).toBe('CONTINUUM_MODEL_NOT_FOUND')
    await aliasOnly.close()
  })

  it.each([
    ['embeddings = "yes"', 'inference.providers.compat.embeddings: must be true or false'],
    ['vision = 1', 'inference.providers.compat.vision: must be true or false'],
    ['tools = "no"', 'inference.providers.compat.tools: must be true or false'],
    ['models = ["*", "qwen"]', 'inference.providers.compat.models: "*" (any model) must be the only entry'],
    ['models = []', 'inference.providers.compat.models: must be a non-empty array'],
    ['models = ["qwen", "qwen"]', 'inference.providers.compat.models: must be a non-empty array'],
    [
      'models = ["qwen"]\nlatency_p50_ms = 900\nlatency_p99_ms = 100',
      'latency_p99_ms: must not be below latency_p50_ms',
    ],
    [
      'models = ["qwen"]\ncontext_window = 0',
      'inference.providers.compat.context_window: must be a positive integer',
    ],
    [
      'models = ["qwen"]\ncost_per_million_input = -1',
      'cost_per_million_input: must be a non-negative number',
    ],
    ['', 'inference.providers.compat.models: is required: list the models it serves, or "*" for any'],
  ])('refuses %s', async (line, message) => {
    const error = await failure(
      loadToml(
        `[inference.providers.compat]\ntype = "openai_compatible"\nendpoint = "${fake.url}/v1"\n${line}\n`,
      ),
    )
    expect(error.code).toBe('CONTINUUM_CONFIG_INVALID')
    expect(error.message).toContain(message)
  })
})
