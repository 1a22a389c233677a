import type { CanonicalRequest, ContinuumError, StreamChunk } from 'continuum-proxy'
import { silentLogger, systemClock } from 'continuum-proxy'
import type { InferenceProvider } from 'continuum-proxy/provider-kit'
import { ProviderRegistry } from 'continuum-proxy/provider-kit'
import { tgi } from 'continuum-proxy/providers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tgiProviderType } from '../../adapters/tgi/provider/config'
import { transcript, transcriptLines } from '../kit/replies'
import type { FakeUpstream } from '../kit/server'
import { startTgiServer } from '../kit/tgi'
import { describeProviderFailures } from './provider-failures'

const TOKEN = 'hf_secretTokenValue123'

const request: CanonicalRequest = {
  model: 'meta-llama/Llama-3.1-8B-Instruct',
  system: 'You are helpful.',
  messages: [{ role: 'user', content: 'What is deep learning?' }],
  maxTokens: 20,
  temperature: 0.5,
}

const weatherTool = {
  name: 'get_current_weather',
  description: 'Get the current weather',
  parameters: { type: 'object', properties: { location: { type: 'string' } } },
}

async function collect(iterable: AsyncIterable<StreamChunk>): Promise<StreamChunk[]> {
  const chunks: StreamChunk[] = []
  for await (const chunk of iterable) chunks.push(chunk)
  return chunks
}

describe('tgi provider, messages mode', () => {
  let fake: FakeUpstream
  let provider: InferenceProvider
  beforeAll(async () => {
    fake = await startTgiServer(TOKEN)
    provider = tgi({ baseURL: fake.url, apiKey: TOKEN })
  })
  afterAll(async () => {
    await provider.close?.()
    await fake.close()
  })

  it('completes through /v1/chat/completions with the bearer token', async () => {
    const response = await provider.complete(request)
    expect(response).toMatchObject({
      model: 'meta-llama/Llama-3.1-8B-Instruct',
      provider: 'tgi',
      finishReason: 'stop',
      toolCalls: [],
      usage: { inputTokens: 13, outputTokens: 17 },
    })
    expect(response.content).toMatch(/^Deep learning is a subset/)
    const sent = fake.requests.at(-1)!
    expect(sent.url).toBe('/v1/chat/completions')
    expect(sent.json()).toEqual({
      model: 'meta-llama/Llama-3.1-8B-Instruct',
      stream: false,
      max_tokens: 20,
      temperature: 0.5,
      messages: [
        { role: 'system', content: 'You are helpful.' },
        { role: 'user', content: 'What is deep learning?' },
      ],
    })
  })

  it('streams SSE text deltas, usage and the finish reason', async () => {
    const chunks = await collect(provider.stream(request))
    expect(chunks).toEqual([
      { type: 'text-delta', text: 'Deep' },
      { type: 'text-delta', text: ' learning' },
      { type: 'text-delta', text: ' is' },
      { type: 'usage', usage: { inputTokens: 13, outputTokens: 3 } },
      { type: 'finish', finishReason: 'length' },
    ])
    expect(fake.requests.at(-1)!.json()).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
    })
  })

  it('reads tool calls whose arguments are an object (TGI 2.x) and sends tools and tool_choice', async () => {
    const response = await provider.complete({
      ...request,
      tools: [weatherTool],
      toolChoice: { name: 'get_current_weather' },
      messages: [
        { role: 'user', content: 'Weather?' },
        {
          role: 'assistant',
          content: '',
          toolCalls: [{ id: 'c1', name: 'get_current_weather', arguments: '{}' }],
        },
        { role: 'tool', toolCallId: 'c1', content: 'sunny' },
      ],
    })
    expect(response.finishReason).toBe('tool_calls')
    expect(response.toolCalls).toEqual([
      {
        id: '0',
        name: 'get_current_weather',
        arguments: JSON.stringify({ format: 'celsius', location: 'Brooklyn, New York' }),
      },
    ])
    const sent = fake.requests.at(-1)!.json()
    expect(sent.tools).toEqual([{ type: 'function', function: weatherTool }])
    expect(sent.tool_choice).toEqual({ type: 'function', function: { name: 'get_current_weather' } })
    expect(sent.messages.slice(2)).toEqual([
      {
        role: 'assistant',
        content: '',
        tool_calls: [
          { id: 'c1', type: 'function', function: { name: 'get_current_weather', arguments: '{}' } },
        ],
      },
      { role: 'tool', content: 'sunny', tool_call_id: 'c1' },
    ])
  })

  it('streams tool call fragments (TGI 3.x) that reassemble into the arguments', async () => {
    const chunks = await collect(provider.stream({ ...request, tools: [weatherTool] }))
    const deltas = chunks.filter((chunk) => chunk.type === 'tool-call-delta')
    expect(deltas[0]).toMatchObject({ index: 0, id: 'chatcmpl-tool-1', name: 'get_current_weather' })
    expect(JSON.parse(deltas.map((delta) => delta.argumentsDelta).join(''))).toEqual({ location: 'Brooklyn' })
    expect(chunks.at(-1)).toEqual({ type: 'finish', finishReason: 'tool_calls' })
  })

  it('turns an error event inside the stream into a retryable ContinuumError', async () => {
    fake.queue({
      kind: 'chunks',
      headers: { 'content-type': 'text/event-stream' },
      chunks: transcriptLines(transcript('tgi', 'chat-stream-error.sse')),
    })
    const chunks: StreamChunk[] = []
    const error = (await (async () => {
      for await (const chunk of provider.stream(request)) chunks.push(chunk)
    })().catch((caught: unknown) => caught)) as ContinuumError
    expect(chunks).toEqual([{ type: 'text-delta', text: 'Deep' }])
    expect(error.code).toBe('CONTINUUM_PROVIDER_ERROR')
    expect(error.isRetryable).toBe(true)
    expect(error.message).not.toContain('CUDA')
  })

  it('has no embeddings', async () => {
    const error = (await provider
      .embed({ model: 'x', input: ['a'] })
      .catch((caught: unknown) => caught)) as ContinuumError
    expect(error.code).toBe('CONTINUUM_NOT_SUPPORTED')
    expect(provider.capabilities.embeddings).toBe(false)
  })

  it('reports health from /health and fails auth without the token', async () => {
    expect((await provider.health()).status).toBe('healthy')
    expect(fake.requests.at(-1)!.url).toBe('/health')
    const anonymous = tgi({ baseURL: fake.url })
    const error = (await anonymous.complete(request).catch((caught: unknown) => caught)) as ContinuumError
    expect(error.code).toBe('CONTINUUM_PROVIDER_AUTH_FAILED')
    expect(await anonymous.health()).toMatchObject({
      status: 'unhealthy',
      detail: 'CONTINUUM_PROVIDER_AUTH_FAILED',
    })
    await anonymous.close?.()
  })
})

describe('tgi provider, generate mode', () => {
  let fake: FakeUpstream
  let provider: InferenceProvider
  beforeAll(async () => {
    fake = await startTgiServer()
    provider = tgi({ baseURL: fake.url, mode: 'generate' })
  })
  afterAll(async () => {
    await provider.close?.()
    await fake.close()
  })

  it('renders a prompt for /generate and reads token counts from the headers', async () => {
    const response = await provider.complete({ ...request, temperature: 0, topP: 1 })
    expect(response).toMatchObject({
      content: ' Deep learning is a subset of machine learning.',
      finishReason: 'stop',
      usage: { inputTokens: 7, outputTokens: 10 },
    })
    expect(fake.requests.at(-1)!.json()).toEqual({
      inputs: 'System: You are helpful.\nUser: What is deep learning?\nAssistant:',
      // temperature 0 and top_p 1 are left out: TGI refuses them, and leaving them out means the same.
      parameters: { max_new_tokens: 20, details: true, return_full_text: false },
    })
  })

  it('streams /generate_stream tokens, skipping special tokens', async () => {
    const chunks = await collect(provider.stream(request))
    expect(chunks).toEqual([
      { type: 'text-delta', text: ' Deep' },
      { type: 'text-delta', text: ' learning' },
      { type: 'usage', usage: { inputTokens: 7, outputTokens: 3 } },
      { type: 'finish', finishReason: 'stop' },
    ])
    expect(fake.requests.at(-1)!.url).toBe('/generate_stream')
  })

  it('refuses tools in generate mode without calling the server', async () => {
    const count = fake.requests.length
    const error = (await provider
      .complete({ ...request, tools: [weatherTool] })
      .catch((caught: unknown) => caught)) as ContinuumError
    expect(error.code).toBe('CONTINUUM_NOT_SUPPORTED')
    expect(fake.requests.length).toBe(count)
    expect(provider.capabilities.tools).toBe(false)
  })

  it('is built by the registry, and bad settings name the config key', () => {
    const registry = new ProviderRegistry([tgiProviderType])
    const config = {
      id: 'local-tgi',
      type: 'tgi' as const,
      endpoint: fake.url,
      models: [],
      timeoutMs: 1000,
      headers: {},
      capabilities: {},
      settings: { mode: 'generate' },
    }
    const built = registry.create(config, { clock: systemClock, logger: silentLogger })
    expect(built.id).toBe('local-tgi')
    expect(built.capabilities.local).toBe(true)
    expect(() =>
      registry.create(
        { ...config, settings: { mode: 'chatty' } },
        { clock: systemClock, logger: silentLogger },
      ),
    ).toThrow(/inference\.providers\.local-tgi.*mode/)
  })
})

describeProviderFailures({
  name: 'tgi',
  start: () => startTgiServer(TOKEN),
  provider: (baseURL, timeoutMs) => tgi({ baseURL, timeoutMs, apiKey: TOKEN }),
  request,
  partialStream: {
    headers: { 'content-type': 'text/event-stream' },
    chunks: transcriptLines(transcript('tgi', 'chat-stream.sse')).slice(0, 4),
  },
  errorBody: { error: 'failure', error_type: 'generation' },
  secret: TOKEN,
})
