import { ContinuumError, silentLogger, systemClock } from 'continuum-proxy'
import type { InferenceProvider } from 'continuum-proxy/provider-kit'
import { ProviderRegistry } from 'continuum-proxy/provider-kit'
import { openai } from 'continuum-proxy/providers'
import { fetch as undiciFetch } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openaiProviderType } from '../../adapters/openai/provider/config'
import { openaiDialect, startOpenAIServer } from '../kit/openai'
import { transcriptUntil } from '../kit/replies'
import type { FakeUpstream } from '../kit/server'
import { caught } from './caught'
import { assembleToolCalls, collect, openaiRequest, weatherTool } from './openai-fixtures'
import { describeProviderFailures } from './provider-failures'

const API_KEY = 'sk-test-5ecret-openai-key'

describe('openai provider', () => {
  let fake: FakeUpstream
  let provider: InferenceProvider
  beforeAll(async () => {
    fake = await startOpenAIServer(openaiDialect(API_KEY))
    provider = openai({
      apiKey: API_KEY,
      baseURL: `${fake.url}/v1`,
      models: ['gpt-4o-mini'],
      organization: 'org-test',
      headers: { 'x-team': 'search' },
    })
  })
  afterAll(async () => {
    await provider.close?.()
    await fake.close()
  })

  it('completes through /v1/chat/completions with the documented request body and headers', async () => {
    const response = await provider.complete(openaiRequest)
    expect(response).toEqual({
      id: 'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT',
      model: 'gpt-4o-mini-2024-07-18',
      provider: 'openai',
      content: 'Hello! How can I assist you today?',
      toolCalls: [],
      finishReason: 'stop',
      usage: { inputTokens: 19, outputTokens: 10 },
    })
    const sent = fake.requests.at(-1)!
    expect(sent.method).toBe('POST')
    expect(sent.url).toBe('/v1/chat/completions')
    expect(sent.headers.authorization).toBe(`Bearer ${API_KEY}`)
    expect(sent.headers['openai-organization']).toBe('org-test')
    expect(sent.headers['x-team']).toBe('search')
    expect(sent.json()).toEqual({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hello!' },
      ],
      stop: ['\n\n'],
      temperature: 0.2,
      top_p: 0.9,
      max_completion_tokens: 64,
    })
  })

  it('sends tools, tool results and image parts in OpenAI form and reads tool calls back', async () => {
    const response = await provider.complete({
      model: 'gpt-4o-mini',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is the weather where this photo was taken?' },
            { type: 'image', url: 'https://example.com/boston.jpg' },
            { type: 'image', data: 'iVBORw0KGgo=', mediaType: 'image/png' },
          ],
        },
        {
          role: 'assistant',
          content: '',
          toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"location":"Boston"}' }],
        },
        { role: 'tool', toolCallId: 'call_1', content: '{"temperature":22}' },
      ],
      tools: [weatherTool],
      toolChoice: { name: 'get_weather' },
    })
    expect(response.finishReason).toBe('tool_calls')
    expect(response.content).toBe('')
    expect(response.toolCalls).toEqual([
      { id: 'call_abc123', name: 'get_current_weather', arguments: '{\n"location": "Boston, MA"\n}' },
    ])
    const body = fake.requests.at(-1)!.json()
    expect(body.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is the weather where this photo was taken?' },
          { type: 'image_url', image_url: { url: 'https://example.com/boston.jpg' } },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
        ],
      },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'call_1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"location":"Boston"}' },
          },
        ],
      },
      { role: 'tool', content: '{"temperature":22}', tool_call_id: 'call_1' },
    ])
    expect(body.tools).toEqual([{ type: 'function', function: weatherTool }])
    expect(body.tool_choice).toEqual({ type: 'function', function: { name: 'get_weather' } })
  })

  it('streams text deltas, then usage, then finish, asking for include_usage', async () => {
    const chunks = await collect(provider.stream(openaiRequest))
    expect(chunks).toEqual([
      { type: 'text-delta', text: 'Hello' },
      { type: 'text-delta', text: ' there' },
      { type: 'text-delta', text: ', how can I help? ✓' },
      { type: 'usage', usage: { inputTokens: 9, outputTokens: 7 } },
      { type: 'finish', finishReason: 'stop' },
    ])
    const sent = fake.requests.at(-1)!
    expect(sent.headers.accept).toBe('text/event-stream')
    expect(sent.json()).toMatchObject({ stream: true, stream_options: { include_usage: true } })
  })

  it('streams two tool calls as indexed deltas whose arguments assemble into JSON', async () => {
    const chunks = await collect(
      provider.stream({ ...openaiRequest, tools: [weatherTool], toolChoice: 'required' }),
    )
    expect(fake.requests.at(-1)!.json().tool_choice).toBe('required')
    expect(chunks[0]).toEqual({
      type: 'tool-call-delta',
      index: 0,
      id: 'call_DdmO9pD3xa9XTPNJ32zg2hcA',
      name: 'get_weather',
      argumentsDelta: '',
    })
    const calls = assembleToolCalls(chunks)
    expect(calls).toEqual([
      { id: 'call_DdmO9pD3xa9XTPNJ32zg2hcA', name: 'get_weather', arguments: '{"location":"Paris, France"}' },
      { id: 'call_Xq3Lq3L1yJvhK5Qm0Jm2Hh0T', name: 'get_time', arguments: '{"zone":"CET"}' },
    ])
    expect(JSON.parse(calls[0]!.arguments)).toEqual({ location: 'Paris, France' })
    expect(chunks.slice(-2)).toEqual([
      { type: 'usage', usage: { inputTokens: 88, outputTokens: 31 } },
      { type: 'finish', finishReason: 'tool_calls' },
    ])
  })

  it('embeds through /v1/embeddings, ordering vectors by index', async () => {
    const response = await provider.embed({ model: 'text-embedding-3-small', input: ['first', 'second'] })
    expect(response).toEqual({
      model: 'text-embedding-3-small',
      provider: 'openai',
      embeddings: [
        [0.0023064255, -0.009327292, -0.0028842222],
        [0.0123, -0.0456, 0.0789],
      ],
      usage: { inputTokens: 8, outputTokens: 0 },
    })
    expect(fake.requests.at(-1)!.json()).toEqual({
      model: 'text-embedding-3-small',
      input: ['first', 'second'],
      encoding_format: 'float',
    })
  })

  it('reports health from GET /v1/models, unhealthy with a bad key', async () => {
    const health = await provider.health()
    expect(health.status).toBe('healthy')
    expect(fake.requests.at(-1)!.url).toBe('/v1/models')
    const wrongKey = openai({ apiKey: 'sk-wrong', baseURL: `${fake.url}/v1` })
    expect(await wrongKey.health()).toMatchObject({
      status: 'unhealthy',
      detail: 'CONTINUUM_PROVIDER_AUTH_FAILED',
    })
    await wrongKey.close?.()
  })

  it('treats a stream that stops after its finish reason but before [DONE] as complete', async () => {
    fake.queue({
      kind: 'chunks',
      headers: { 'content-type': 'text/event-stream' },
      chunks: transcriptUntil('openai', 'chat-stream-text.sse', '"choices":[],"usage"'),
    })
    const chunks = await collect(provider.stream(openaiRequest))
    expect(chunks.at(-1)).toEqual({ type: 'finish', finishReason: 'stop' })
  })

  it('maps an error object sent inside the stream to a provider error', async () => {
    fake.queue({
      kind: 'chunks',
      headers: { 'content-type': 'text/event-stream' },
      chunks: [
        ...transcriptUntil('openai', 'chat-stream-text.sse', '" there"'),
        'data: {"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}}\n\n',
      ],
    })
    const error = await caught(collect(provider.stream(openaiRequest)))
    expect(error.code).toBe('CONTINUUM_PROVIDER_ERROR')
    expect(error.isRetryable).toBe(true)
  })

  it('rejects a completion body without choices as a protocol error', async () => {
    fake.queue({
      kind: 'body',
      headers: { 'content-type': 'application/json' },
      body: '{"id":"x","object":"chat.completion"}',
    })
    const error = await caught(provider.complete(openaiRequest))
    expect(error.code).toBe('CONTINUUM_UPSTREAM_PROTOCOL_ERROR')
  })

  it('works through an injected fetch', async () => {
    const viaFetch = openai({
      apiKey: API_KEY,
      baseURL: `${fake.url}/v1`,
      fetch: undiciFetch as unknown as typeof fetch,
    })
    expect((await viaFetch.complete(openaiRequest)).content).toBe('Hello! How can I assist you today?')
    expect((await collect(viaFetch.stream(openaiRequest))).at(-1)).toEqual({
      type: 'finish',
      finishReason: 'stop',
    })
    await viaFetch.close?.()
  })

  it('validates options once, naming the option and never echoing the key', () => {
    const attempts: Array<[Record<string, unknown>, string]> = [
      [{}, 'apiKey'],
      [{ apiKey: 'sk-with\nnewline' }, 'apiKey'],
      [{ apiKey: API_KEY, baseURL: 'ftp://example.com' }, 'baseURL'],
      [{ apiKey: API_KEY, timeoutMs: -1 }, 'timeoutMs'],
      [{ apiKey: API_KEY, organization: 'a\r\nb' }, 'organization'],
    ]
    for (const [options, option] of attempts) {
      let error: unknown
      try {
        openai(options as never)
      } catch (thrown) {
        error = thrown
      }
      expect(ContinuumError.isInstance(error)).toBe(true)
      expect((error as ContinuumError).code).toBe('CONTINUUM_INVALID_OPTIONS')
      expect((error as ContinuumError).message).toContain(option)
      expect((error as ContinuumError).message).not.toContain('sk-with')
    }
  })

  it('is built by its config factory through the registry', async () => {
    const registry = new ProviderRegistry([openaiProviderType])
    const built = registry.create(
      {
        id: 'primary-openai',
        type: 'openai',
        endpoint: `${fake.url}/v1`,
        apiKey: API_KEY,
        models: ['gpt-4o-mini'],
        timeoutMs: 5_000,
        headers: {},
        capabilities: { costPerMillion: { input: 0.15, output: 0.6 } },
        settings: { project: 'proj_1' },
      },
      { clock: systemClock, logger: silentLogger },
    )
    expect(built.id).toBe('primary-openai')
    expect(built.capabilities).toMatchObject({
      models: ['gpt-4o-mini'],
      costPerMillion: { input: 0.15, output: 0.6 },
    })
    const response = await built.complete(openaiRequest)
    expect(response.provider).toBe('primary-openai')
    expect(fake.requests.at(-1)!.headers['openai-project']).toBe('proj_1')
    await built.close?.()
    let error: unknown
    try {
      registry.create(
        {
          id: 'nokey',
          type: 'openai',
          models: [],
          timeoutMs: 1_000,
          headers: {},
          capabilities: {},
          settings: {},
        },
        { clock: systemClock, logger: silentLogger },
      )
    } catch (thrown) {
      error = thrown
    }
    expect((error as ContinuumError).code).toBe('CONTINUUM_CONFIG_INVALID')
  })
})

describeProviderFailures({
  name: 'openai',
  start: () => startOpenAIServer(openaiDialect(API_KEY)),
  provider: (baseURL, timeoutMs) => openai({ apiKey: API_KEY, baseURL: `${baseURL}/v1`, timeoutMs }),
  request: openaiRequest,
  partialStream: {
    headers: { 'content-type': 'text/event-stream' },
    chunks: transcriptUntil('openai', 'chat-stream-text.sse', '"finish_reason":"stop"'),
  },
  errorBody: { error: { message: 'failure', type: 'server_error', param: null, code: null } },
  secret: API_KEY,
})
