import type { CanonicalRequest, ContinuumError, StreamChunk } from 'continuum-proxy'
import { silentLogger, systemClock } from 'continuum-proxy'
import type { InferenceProvider } from 'continuum-proxy/provider-kit'
import { ProviderRegistry } from 'continuum-proxy/provider-kit'
import { ollama } from 'continuum-proxy/providers'
import { fetch as undiciFetch } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ollamaProviderType } from '../../adapters/ollama/provider/config'
import { startOllamaServer } from '../kit/ollama'
import { transcript, transcriptLines } from '../kit/replies'
import type { FakeUpstream } from '../kit/server'
import { describeProviderFailures } from './provider-failures'

const request: CanonicalRequest = {
  model: 'llama3.2',
  system: 'Be brief.',
  messages: [{ role: 'user', content: 'Why is the sky blue?' }],
  temperature: 0.2,
  maxTokens: 64,
  stop: ['\n\n'],
}

const weatherTool = {
  name: 'get_current_weather',
  description: 'Get the current weather for a location',
  parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
}

async function collect(iterable: AsyncIterable<StreamChunk>): Promise<StreamChunk[]> {
  const chunks: StreamChunk[] = []
  for await (const chunk of iterable) chunks.push(chunk)
  return chunks
}

describe('ollama provider', () => {
  let fake: FakeUpstream
  let provider: InferenceProvider
  beforeAll(async () => {
    fake = await startOllamaServer()
    provider = ollama({ baseURL: fake.url, models: ['llama3.2'] })
  })
  afterAll(async () => {
    await provider.close?.()
    await fake.close()
  })

  it('completes through /api/chat with stream: false and the documented options', async () => {
    const response = await provider.complete(request)
    expect(response).toMatchObject({
      model: 'llama3.2',
      provider: 'ollama',
      content: 'Hello! How are you today?',
      toolCalls: [],
      finishReason: 'stop',
      usage: { inputTokens: 26, outputTokens: 298 },
    })
    const sent = fake.requests.at(-1)!
    expect(sent.url).toBe('/api/chat')
    expect(sent.json()).toEqual({
      model: 'llama3.2',
      stream: false,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Why is the sky blue?' },
      ],
      options: { temperature: 0.2, num_predict: 64, stop: ['\n\n'] },
    })
  })

  it('streams NDJSON text deltas, usage and finish', async () => {
    const chunks = await collect(provider.stream(request))
    expect(chunks).toEqual([
      { type: 'text-delta', text: 'The' },
      { type: 'text-delta', text: ' sky' },
      { type: 'text-delta', text: ' is blue.' },
      { type: 'usage', usage: { inputTokens: 26, outputTokens: 282 } },
      { type: 'finish', finishReason: 'stop' },
    ])
    expect(fake.requests.at(-1)!.json().stream).toBe(true)
  })

  it('sends tools (without strict, which Ollama does not honour), tool results and images, and reads tool calls', async () => {
    const response = await provider.complete({
      model: 'llama3.2',
      tools: [{ ...weatherTool, strict: true }],
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Weather here?' },
            { type: 'image', data: 'aGVsbG8=', mediaType: 'image/png' },
          ],
        },
        {
          role: 'assistant',
          content: '',
          toolCalls: [{ id: 'call_1', name: 'get_current_weather', arguments: '{"location":"Oslo"}' }],
        },
        { role: 'tool', toolCallId: 'call_1', content: '{"temperature":3}' },
      ],
    })
    expect(response.finishReason).toBe('tool_calls')
    expect(response.toolCalls).toHaveLength(1)
    expect(response.toolCalls[0]).toMatchObject({ name: 'get_current_weather' })
    expect(JSON.parse(response.toolCalls[0]!.arguments)).toEqual({ format: 'celsius', location: 'Paris, FR' })
    expect(response.toolCalls[0]!.id).toMatch(/^call_/)
    const sent = fake.requests.at(-1)!.json()
    expect(sent.tools).toEqual([{ type: 'function', function: weatherTool }])
    expect(sent.messages).toEqual([
      { role: 'user', content: 'Weather here?', images: ['aGVsbG8='] },
      {
        role: 'assistant',
        content: '',
        tool_calls: [{ function: { name: 'get_current_weather', arguments: { location: 'Oslo' } } }],
      },
      { role: 'tool', content: '{"temperature":3}', tool_name: 'get_current_weather' },
    ])
  })

  it('streams tool calls as whole tool-call deltas and finishes with tool_calls', async () => {
    const chunks = await collect(provider.stream({ ...request, tools: [weatherTool] }))
    expect(chunks[0]).toMatchObject({ type: 'tool-call-delta', index: 0, name: 'get_current_weather' })
    expect(JSON.parse((chunks[0] as { argumentsDelta: string }).argumentsDelta)).toEqual({
      format: 'celsius',
      location: 'Paris, FR',
    })
    expect(chunks.at(-1)).toEqual({ type: 'finish', finishReason: 'tool_calls' })
  })

  it('rejects tool call arguments that are not JSON before sending', async () => {
    const count = fake.requests.length
    const error = await provider
      .complete({
        model: 'llama3.2',
        messages: [
          { role: 'assistant', content: '', toolCalls: [{ id: 'a', name: 'f', arguments: '{oops' }] },
        ],
      })
      .catch((caught: unknown) => caught)
    expect((error as ContinuumError).code).toBe('CONTINUUM_SCHEMA_VIOLATION')
    expect((error as ContinuumError).message).not.toContain('oops')
    expect(fake.requests.length).toBe(count)
  })

  it('embeds through /api/embed, one vector per input', async () => {
    const response = await provider.embed({ model: 'all-minilm', input: ['first', 'second'] })
    expect(response.embeddings).toHaveLength(2)
    expect(response.embeddings[0]).toHaveLength(10)
    expect(response).toMatchObject({
      model: 'all-minilm',
      provider: 'ollama',
      usage: { inputTokens: 8, outputTokens: 0 },
    })
    expect(fake.requests.at(-1)!.json()).toEqual({ model: 'all-minilm', input: ['first', 'second'] })
  })

  it('maps an unknown model (404) to a non-retryable provider error', async () => {
    const error = (await provider
      .complete({ ...request, model: 'llama9' })
      .catch((caught: unknown) => caught)) as ContinuumError
    expect(error.code).toBe('CONTINUUM_PROVIDER_ERROR')
    expect(error.isRetryable).toBe(false)
    expect(error.message).not.toContain('llama9')
  })

  it('turns an error line inside the stream into a ContinuumError after the text so far', async () => {
    fake.queue({
      kind: 'chunks',
      headers: { 'content-type': 'application/x-ndjson' },
      chunks: transcriptLines(transcript('ollama', 'chat-stream-error.ndjson')),
    })
    const chunks: StreamChunk[] = []
    const error = await (async () => {
      for await (const chunk of provider.stream(request)) chunks.push(chunk)
    })().catch((caught: unknown) => caught)
    expect(chunks).toEqual([{ type: 'text-delta', text: 'The' }])
    expect((error as ContinuumError).code).toBe('CONTINUUM_PROVIDER_ERROR')
    expect((error as ContinuumError).message).not.toContain('unexpected EOF')
  })

  it('reports health from /api/version', async () => {
    const health = await provider.health()
    expect(health.status).toBe('healthy')
    expect(fake.requests.at(-1)!.url).toBe('/api/version')
  })

  it('works with an injected fetch', async () => {
    const viaFetch = ollama({ baseURL: fake.url, fetch: undiciFetch as unknown as typeof fetch })
    const chunks = await collect(viaFetch.stream(request))
    expect(chunks.at(-1)).toEqual({ type: 'finish', finishReason: 'stop' })
    await viaFetch.close?.()
  })

  it('validates options at construction', () => {
    expect(() => ollama({ baseURL: 'ftp://x' })).toThrow(/baseURL/)
    expect(() => ollama({ timeoutMs: -1 })).toThrow(/timeoutMs/)
    expect(() => ollama({ models: [''] })).toThrow(/models/)
    expect(ollama().capabilities.local).toBe(true)
  })

  it('is built by the registry from configuration', async () => {
    const registry = new ProviderRegistry([ollamaProviderType])
    const built = registry.create(
      {
        id: 'local-ollama',
        type: 'ollama',
        endpoint: fake.url,
        models: ['llama3.2'],
        timeoutMs: 5_000,
        headers: {},
        capabilities: { contextWindow: 32_768 },
        settings: {},
      },
      { clock: systemClock, logger: silentLogger },
    )
    expect(built.id).toBe('local-ollama')
    expect(built.capabilities.contextWindow).toBe(32_768)
    expect((await built.complete(request)).provider).toBe('local-ollama')
    await built.close?.()
  })
})

describeProviderFailures({
  name: 'ollama',
  start: startOllamaServer,
  provider: (baseURL, timeoutMs) => ollama({ baseURL, timeoutMs }),
  request,
  partialStream: {
    headers: { 'content-type': 'application/x-ndjson' },
    chunks: transcriptLines(transcript('ollama', 'chat-stream.ndjson')).slice(0, 2),
  },
  errorBody: { error: 'failure' },
})
