import type { ContinuumError } from 'continuum-proxy'
import { silentLogger, systemClock } from 'continuum-proxy'
import type { InferenceProvider } from 'continuum-proxy/provider-kit'
import { ProviderRegistry } from 'continuum-proxy/provider-kit'
import { openAICompatible } from 'continuum-proxy/providers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openAICompatibleProviderType } from '../../adapters/openai-compatible/provider/config'
import { openaiDialect, startOpenAIServer } from '../kit/openai'
import { transcriptUntil } from '../kit/replies'
import type { FakeUpstream } from '../kit/server'
import { assembleToolCalls, collect, openaiRequest, weatherTool } from './openai-fixtures'
import { describeProviderFailures } from './provider-failures'

const API_KEY = 'lmstudio-5ecret-key'

describe('openai-compatible provider', () => {
  let fake: FakeUpstream
  let provider: InferenceProvider
  beforeAll(async () => {
    fake = await startOpenAIServer(openaiDialect(undefined))
    provider = openAICompatible({
      baseURL: `${fake.url}/v1/`,
      headers: { 'X-Tenant': 'blue' },
      capabilities: { local: true },
    })
  })
  afterAll(async () => {
    await provider.close?.()
    await fake.close()
  })

  it('completes without an Authorization header, with custom headers and max_tokens', async () => {
    const response = await provider.complete(openaiRequest)
    expect(response.provider).toBe('openai_compatible')
    expect(response.content).toBe('Hello! How can I assist you today?')
    const sent = fake.requests.at(-1)!
    expect(sent.url).toBe('/v1/chat/completions')
    expect(sent.headers.authorization).toBeUndefined()
    expect(sent.headers['x-tenant']).toBe('blue')
    expect(sent.json().max_tokens).toBe(64)
    expect(provider.capabilities).toMatchObject({ local: true, embeddings: false })
  })

  it('streams tool calls', async () => {
    const chunks = await collect(provider.stream({ ...openaiRequest, tools: [weatherTool] }))
    expect(assembleToolCalls(chunks).map((call) => call.name)).toEqual(['get_weather', 'get_time'])
    expect(chunks.at(-1)).toEqual({ type: 'finish', finishReason: 'tool_calls' })
  })

  it('refuses embeddings with CONTINUUM_NOT_SUPPORTED unless declared, without calling upstream', async () => {
    const before = fake.requests.length
    let error: unknown
    try {
      await provider.embed({ model: 'nomic-embed-text', input: ['a'] })
    } catch (thrown) {
      error = thrown
    }
    expect((error as ContinuumError).code).toBe('CONTINUUM_NOT_SUPPORTED')
    expect(fake.requests.length).toBe(before)
    const embedding = openAICompatible({ baseURL: `${fake.url}/v1`, capabilities: { embeddings: true } })
    expect((await embedding.embed({ model: 'nomic-embed-text', input: ['a', 'b'] })).embeddings).toHaveLength(
      2,
    )
    await embedding.close?.()
  })

  it('probes the configured health path and sends a key when given one', async () => {
    const keyed = openAICompatible({
      baseURL: fake.url,
      apiKey: API_KEY,
      healthPath: '/health',
      maxTokensField: 'max_completion_tokens',
    })
    expect((await keyed.health()).status).toBe('healthy')
    expect(fake.requests.at(-1)!.url).toBe('/health')
    expect(fake.requests.at(-1)!.headers.authorization).toBe(`Bearer ${API_KEY}`)
    await keyed.close?.()
  })

  it('validates its options', () => {
    for (const options of [
      {},
      { baseURL: 'http://x', maxTokensField: 'tokens' },
      { baseURL: 'http://x', healthPath: 'x' },
    ]) {
      let error: unknown
      try {
        openAICompatible(options as never)
      } catch (thrown) {
        error = thrown
      }
      expect((error as ContinuumError).code).toBe('CONTINUUM_INVALID_OPTIONS')
    }
  })

  it('is built by its config factory', async () => {
    const registry = new ProviderRegistry([openAICompatibleProviderType])
    const built = registry.create(
      {
        id: 'lmstudio',
        type: 'openai_compatible',
        endpoint: `${fake.url}/v1`,
        models: [],
        timeoutMs: 5_000,
        headers: {},
        capabilities: {},
        settings: { health_path: '/models' },
      },
      { clock: systemClock, logger: silentLogger },
    )
    expect((await built.health()).status).toBe('healthy')
    expect(fake.requests.at(-1)!.url).toBe('/v1/models')
    await built.close?.()
  })
})

describeProviderFailures({
  name: 'openai-compatible',
  start: () => startOpenAIServer(openaiDialect(API_KEY)),
  provider: (baseURL, timeoutMs) =>
    openAICompatible({ baseURL: `${baseURL}/v1`, apiKey: API_KEY, timeoutMs }),
  request: openaiRequest,
  partialStream: {
    headers: { 'content-type': 'text/event-stream' },
    chunks: transcriptUntil('openai', 'chat-stream-text.sse', '"finish_reason":"stop"'),
  },
  errorBody: { error: { message: 'failure', type: 'server_error', param: null, code: null } },
  secret: API_KEY,
})
