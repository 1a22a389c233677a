import { type ContinuumError, silentLogger, systemClock } from 'continuum-proxy'
import type { InferenceProvider } from 'continuum-proxy/provider-kit'
import { ProviderRegistry } from 'continuum-proxy/provider-kit'
import { azureOpenAI } from 'continuum-proxy/providers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { azureOpenAIProviderType } from '../../adapters/azure-openai/provider/config'
import { azureDialect, startOpenAIServer } from '../kit/openai'
import { transcript, transcriptUntil } from '../kit/replies'
import type { FakeUpstream } from '../kit/server'
import { caught } from './caught'
import { collect, openaiRequest } from './openai-fixtures'
import { describeProviderFailures } from './provider-failures'

const API_KEY = 'azure-5ecret-resource-key-0123456789'
const TOKEN = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.test-token'
const DEPLOYMENTS = { 'gpt-4o-mini': 'gpt-4o-prod', 'text-embedding-3-small': 'embed-prod' }

describe('azure openai provider', () => {
  let fake: FakeUpstream
  let provider: InferenceProvider
  beforeAll(async () => {
    fake = await startOpenAIServer(
      azureDialect({ apiKey: API_KEY, token: TOKEN }, ['gpt-4o-prod', 'embed-prod']),
      'azure-openai',
    )
    provider = azureOpenAI({ endpoint: fake.url, apiKey: API_KEY, deployments: DEPLOYMENTS })
  })
  afterAll(async () => {
    await provider.close?.()
    await fake.close()
  })

  it('completes on the deployment path with api-version and the api-key header', async () => {
    const response = await provider.complete(openaiRequest)
    expect(response).toEqual({
      id: 'chatcmpl-7R1nGnsXO8n4oi9UPz2f3UHdgAYMn',
      model: 'gpt-4o-2024-11-20',
      provider: 'azure_openai',
      content: 'Yes, customer managed keys are supported by Azure OpenAI.',
      toolCalls: [],
      finishReason: 'stop',
      usage: { inputTokens: 33, outputTokens: 557 },
    })
    const sent = fake.requests.at(-1)!
    expect(sent.url).toBe('/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21')
    expect(sent.headers['api-key']).toBe(API_KEY)
    expect(sent.headers.authorization).toBeUndefined()
    expect(sent.json()).toMatchObject({ max_tokens: 64 })
    expect(sent.json().max_completion_tokens).toBeUndefined()
    expect(provider.capabilities.models).toEqual(['gpt-4o-mini', 'text-embedding-3-small'])
  })

  it('streams past the prompt_filter_results chunk that Azure sends first', async () => {
    expect(await collect(provider.stream(openaiRequest))).toEqual([
      { type: 'text-delta', text: 'Yes, customer' },
      { type: 'text-delta', text: ' managed keys are supported.' },
      { type: 'usage', usage: { inputTokens: 14, outputTokens: 9 } },
      { type: 'finish', finishReason: 'stop' },
    ])
  })

  it('embeds through the embedding deployment', async () => {
    const response = await provider.embed({ model: 'text-embedding-3-small', input: ['a', 'b'] })
    expect(response.embeddings).toHaveLength(2)
    expect(fake.requests.at(-1)!.url).toBe('/openai/deployments/embed-prod/embeddings?api-version=2024-10-21')
  })

  it('refuses a model without a deployment before sending anything', async () => {
    const before = fake.requests.length
    const error = await caught(provider.complete({ ...openaiRequest, model: 'gpt-5' }))
    expect(error.code).toBe('CONTINUUM_MODEL_NOT_FOUND')
    expect(fake.requests.length).toBe(before)
  })

  it('maps the content-filter 400 to CONTINUUM_PROVIDER_BAD_REQUEST', async () => {
    fake.queue({
      kind: 'body',
      status: 400,
      headers: { 'content-type': 'application/json' },
      body: transcript('azure-openai', 'error-content-filter.json'),
    })
    const error = await caught(provider.complete(openaiRequest))
    expect(error.code).toBe('CONTINUUM_PROVIDER_BAD_REQUEST')
    expect(error.isRetryable).toBe(false)
  })

  it('authenticates with a bearer token from the token provider', async () => {
    let calls = 0
    const withToken = azureOpenAI({
      id: 'azure-entra',
      endpoint: fake.url,
      tokenProvider: async () => {
        calls++
        return TOKEN
      },
      apiVersion: '2024-06-01',
    })
    const response = await withToken.complete({ ...openaiRequest, model: 'gpt-4o-prod' })
    expect(response.provider).toBe('azure-entra')
    const sent = fake.requests.at(-1)!
    expect(sent.headers.authorization).toBe(`Bearer ${TOKEN}`)
    expect(sent.headers['api-key']).toBeUndefined()
    expect(sent.url).toBe('/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-06-01')
    expect((await withToken.health()).status).toBe('healthy')
    expect(fake.requests.at(-1)!.url).toBe('/openai/models?api-version=2024-06-01')
    expect(calls).toBe(2)
    await withToken.close?.()
  })

  it('turns a failing token provider into CONTINUUM_PROVIDER_AUTH_FAILED without its message', async () => {
    const failing = azureOpenAI({
      endpoint: fake.url,
      tokenProvider: async () => {
        throw new Error('credential chain failed for secret client-5ecret-value')
      },
    })
    const error = await caught(failing.complete(openaiRequest))
    expect(error.code).toBe('CONTINUUM_PROVIDER_AUTH_FAILED')
    expect(error.message).not.toContain('client-5ecret-value')
    expect(JSON.stringify(error.toJSON())).not.toContain('client-5ecret-value')
    expect(await failing.health()).toEqual({ status: 'unhealthy', detail: 'CONTINUUM_PROVIDER_AUTH_FAILED' })
    await failing.close?.()
  })

  it('requires exactly one credential and valid deployment names', () => {
    const attempts: Array<[Record<string, unknown>, string]> = [
      [{ endpoint: 'https://r.openai.azure.com' }, 'apiKey'],
      [
        { endpoint: 'https://r.openai.azure.com', apiKey: 'k', tokenProvider: async () => 't' },
        'tokenProvider',
      ],
      [{ endpoint: 'not a url', apiKey: 'k' }, 'endpoint'],
      [{ endpoint: 'https://r.openai.azure.com', apiKey: 'k', deployments: { a: '../x' } }, 'deployments.a'],
    ]
    for (const [options, option] of attempts) {
      let error: unknown
      try {
        azureOpenAI(options as never)
      } catch (thrown) {
        error = thrown
      }
      expect((error as ContinuumError).code).toBe('CONTINUUM_INVALID_OPTIONS')
      expect((error as ContinuumError).message).toContain(option)
    }
  })

  it('is built by its config factory with a single deployment setting', async () => {
    const registry = new ProviderRegistry([azureOpenAIProviderType])
    const built = registry.create(
      {
        id: 'azure',
        type: 'azure_openai',
        endpoint: fake.url,
        apiKey: API_KEY,
        models: ['gpt-4o-mini'],
        timeoutMs: 5_000,
        headers: {},
        capabilities: {},
        settings: { deployment: 'gpt-4o-prod', api_version: '2024-10-21' },
      },
      { clock: systemClock, logger: silentLogger },
    )
    expect((await built.complete(openaiRequest)).provider).toBe('azure')
    expect(fake.requests.at(-1)!.url).toBe(
      '/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21',
    )
    await built.close?.()
  })
})

describeProviderFailures({
  name: 'azure openai',
  start: () => startOpenAIServer(azureDialect({ apiKey: API_KEY }, ['gpt-4o-prod']), 'azure-openai'),
  provider: (baseURL, timeoutMs) =>
    azureOpenAI({
      endpoint: baseURL,
      apiKey: API_KEY,
      deployments: { 'gpt-4o-mini': 'gpt-4o-prod' },
      timeoutMs,
    }),
  request: openaiRequest,
  partialStream: {
    headers: { 'content-type': 'text/event-stream' },
    chunks: transcriptUntil('azure-openai', 'chat-stream-text.sse', '"finish_reason":"stop"'),
  },
  errorBody: { error: { message: 'failure', type: null, param: null, code: null, status: 500 } },
  secret: API_KEY,
})
