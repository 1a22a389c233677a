import type { CanonicalRequest } from 'continuum-proxy'
import { type ContinuumError, silentLogger, systemClock } from 'continuum-proxy'
import type { InferenceProvider } from 'continuum-proxy/provider-kit'
import { ProviderRegistry } from 'continuum-proxy/provider-kit'
import { anthropic } from 'continuum-proxy/providers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { anthropicProviderType } from '../../adapters/anthropic/provider/config'
import { anthropicErrorReply, startAnthropicServer } from '../kit/anthropic'
import { transcript, transcriptUntil } from '../kit/replies'
import type { FakeUpstream } from '../kit/server'
import { caught } from './caught'
import { assembleToolCalls, collect, weatherTool } from './openai-fixtures'
import { describeProviderFailures } from './provider-failures'

const API_KEY = 'sk-ant-api03-5ecret-test-key'
const request: CanonicalRequest = {
  model: 'claude-sonnet-4-20250514',
  system: 'You are terse.',
  messages: [{ role: 'user', content: 'Hello, Claude' }],
  temperature: 0.5,
  topP: 0.9,
  stop: ['END'],
}

describe('anthropic provider', () => {
  let fake: FakeUpstream
  let provider: InferenceProvider
  beforeAll(async () => {
    fake = await startAnthropicServer(API_KEY)
    provider = anthropic({ apiKey: API_KEY, baseURL: fake.url, betas: ['prompt-caching-2024-07-31'] })
  })
  afterAll(async () => {
    await provider.close?.()
    await fake.close()
  })

  it('completes through /v1/messages with the documented headers and body', async () => {
    expect(await provider.complete(request)).toEqual({
      id: 'msg_013Zva2CMHLNnXjNJJKqJ2EF',
      model: 'claude-sonnet-4-20250514',
      provider: 'anthropic',
      content: 'Hi! My name is Claude.',
      toolCalls: [],
      finishReason: 'stop',
      usage: { inputTokens: 2095, outputTokens: 503 },
    })
    const sent = fake.requests.at(-1)!
    expect(sent.url).toBe('/v1/messages')
    expect(sent.headers['x-api-key']).toBe(API_KEY)
    expect(sent.headers['anthropic-version']).toBe('2023-06-01')
    expect(sent.headers['anthropic-beta']).toBe('prompt-caching-2024-07-31')
    expect(sent.headers.authorization).toBeUndefined()
    expect(sent.json()).toEqual({
      model: 'claude-sonnet-4-20250514',
      max_tokens: 4096,
      system: 'You are terse.',
      messages: [{ role: 'user', content: 'Hello, Claude' }],
      stop_sequences: ['END'],
      temperature: 0.5,
      top_p: 0.9,
    })
  })

  it('sends system messages, images, tool use and merged tool results as Anthropic blocks', async () => {
    const response = await provider.complete({
      model: 'claude-sonnet-4-20250514',
      maxTokens: 1024,
      messages: [
        { role: 'system', content: 'Use tools when useful.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Weather here and the time?' },
            { type: 'image', data: 'iVBORw0KGgo=', mediaType: 'image/png' },
            { type: 'image', url: 'https://example.com/sf.jpg' },
          ],
        },
        {
          role: 'assistant',
          content: 'Checking.',
          toolCalls: [
            { id: 'toolu_1', name: 'get_weather', arguments: '{"location":"SF"}' },
            { id: 'toolu_2', name: 'get_time', arguments: '' },
          ],
        },
        { role: 'tool', toolCallId: 'toolu_1', content: '15 degrees' },
        { role: 'tool', toolCallId: 'toolu_2', content: '10:00' },
      ],
      tools: [weatherTool],
      toolChoice: 'required',
    })
    expect(response.finishReason).toBe('tool_calls')
    expect(response.content).toBe("I'll check the current weather in San Francisco for you.")
    expect(response.toolCalls).toEqual([
      {
        id: 'toolu_01A09q90qw90lq917835lq9',
        name: 'get_weather',
        arguments: '{"location":"San Francisco, CA","unit":"celsius"}',
      },
    ])
    const body = fake.requests.at(-1)!.json()
    expect(body.system).toBe('Use tools when useful.')
    expect(body.max_tokens).toBe(1024)
    expect(body.tool_choice).toEqual({ type: 'any' })
    expect(body.tools).toEqual([
      { name: 'get_weather', description: weatherTool.description, input_schema: weatherTool.parameters },
    ])
    expect(body.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Weather here and the time?' },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
          { type: 'image', source: { type: 'url', url: 'https://example.com/sf.jpg' } },
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Checking.' },
          { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { location: 'SF' } },
          { type: 'tool_use', id: 'toolu_2', name: 'get_time', input: {} },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: '15 degrees' },
          { type: 'tool_result', tool_use_id: 'toolu_2', content: '10:00' },
        ],
      },
    ])
  })

  it('streams text through ping events, with usage from message_start and message_delta', async () => {
    expect(await collect(provider.stream(request))).toEqual([
      { type: 'text-delta', text: 'Hello' },
      { type: 'text-delta', text: '! How can I help — today?' },
      { type: 'usage', usage: { inputTokens: 25, outputTokens: 15 } },
      { type: 'finish', finishReason: 'stop' },
    ])
    expect(fake.requests.at(-1)!.json().stream).toBe(true)
  })

  it('streams tool use renumbered among tool calls, with input_json_delta assembled', async () => {
    const chunks = await collect(
      provider.stream({ ...request, tools: [weatherTool], toolChoice: { name: 'get_weather' } }),
    )
    expect(fake.requests.at(-1)!.json().tool_choice).toEqual({ type: 'tool', name: 'get_weather' })
    expect(chunks[0]).toEqual({
      type: 'text-delta',
      text: "Okay, let's check the weather for San Francisco, CA:",
    })
    expect(assembleToolCalls(chunks)).toEqual([
      {
        id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6',
        name: 'get_weather',
        arguments: '{"location": "San Francisco, CA", "unit": "fahrenheit"}',
      },
      // A tool_use block with no input_json_delta gets an empty object.
      { id: 'toolu_01VnUuGmRtwBqfLnVmhvzN6n', name: 'get_time', arguments: '{}' },
    ])
    expect(chunks.slice(-2)).toEqual([
      { type: 'usage', usage: { inputTokens: 472, outputTokens: 89 } },
      { type: 'finish', finishReason: 'tool_calls' },
    ])
  })

  it('maps an overloaded_error event mid-stream to a retryable provider error after the text', async () => {
    fake.queue({
      kind: 'chunks',
      headers: { 'content-type': 'text/event-stream' },
      chunks: [transcript('anthropic', 'stream-overloaded.sse')],
    })
    const received: unknown[] = []
    const error = await caught(
      (async () => {
        for await (const chunk of provider.stream(request)) received.push(chunk)
      })(),
    )
    expect(received).toEqual([{ type: 'text-delta', text: 'Hello' }])
    expect(error.code).toBe('CONTINUUM_PROVIDER_ERROR')
    expect(error.isRetryable).toBe(true)
    expect(error.details?.upstreamStatus).toBe(529)
  })

  it('maps stop reasons: max_tokens to length, refusal to content_filter', async () => {
    const message = JSON.parse(transcript('anthropic', 'message.json'))
    for (const [stopReason, finishReason] of [
      ['max_tokens', 'length'],
      ['stop_sequence', 'stop'],
      ['refusal', 'content_filter'],
    ]) {
      fake.queue({
        kind: 'body',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...message, stop_reason: stopReason }),
      })
      expect((await provider.complete(request)).finishReason).toBe(finishReason)
    }
  })

  it('maps the 529 overloaded answer to a retryable provider error', async () => {
    fake.queue(anthropicErrorReply(529))
    const error = await caught(provider.complete(request))
    expect(error).toMatchObject({ code: 'CONTINUUM_PROVIDER_ERROR', isRetryable: true })
    expect(error.details?.upstreamStatus).toBe(529)
  })

  it('refuses embeddings with CONTINUUM_NOT_SUPPORTED', async () => {
    const error = await caught(provider.embed({ model: 'claude-sonnet-4-20250514', input: ['a'] }))
    expect(error.code).toBe('CONTINUUM_NOT_SUPPORTED')
    expect(anthropic({ apiKey: API_KEY, capabilities: { embeddings: true } }).capabilities.embeddings).toBe(
      false,
    )
  })

  it('reports health from GET /v1/models, unhealthy with a bad key', async () => {
    expect((await provider.health()).status).toBe('healthy')
    expect(fake.requests.at(-1)!.url).toBe('/v1/models')
    const wrongKey = anthropic({ apiKey: 'sk-ant-wrong', baseURL: fake.url })
    expect(await wrongKey.health()).toMatchObject({
      status: 'unhealthy',
      detail: 'CONTINUUM_PROVIDER_AUTH_FAILED',
    })
    await wrongKey.close?.()
  })

  it('rejects malformed tool-call arguments before sending', async () => {
    const before = fake.requests.length
    const error = await caught(
      provider.complete({
        ...request,
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: '', toolCalls: [{ id: 't', name: 'f', arguments: '{not json' }] },
          { role: 'tool', toolCallId: 't', content: 'x' },
        ],
      }),
    )
    expect(error.code).toBe('CONTINUUM_SCHEMA_VIOLATION')
    expect(error.message).not.toContain('not json')
    expect(fake.requests.length).toBe(before)
  })

  it('validates its options', () => {
    for (const options of [
      {},
      { apiKey: ' padded ' },
      { apiKey: API_KEY, defaultMaxTokens: 0 },
      { apiKey: API_KEY, betas: ['bad beta'] },
      { apiKey: API_KEY, baseURL: 'file:///etc' },
    ]) {
      let error: unknown
      try {
        anthropic(options as never)
      } catch (thrown) {
        error = thrown
      }
      expect((error as ContinuumError).code).toBe('CONTINUUM_INVALID_OPTIONS')
      expect((error as ContinuumError).message).not.toContain('padded')
    }
  })

  it('is built by its config factory', async () => {
    const registry = new ProviderRegistry([anthropicProviderType])
    const built = registry.create(
      {
        id: 'claude',
        type: 'anthropic',
        endpoint: fake.url,
        apiKey: API_KEY,
        models: ['claude-sonnet-4-20250514'],
        timeoutMs: 5_000,
        headers: {},
        capabilities: {},
        settings: { default_max_tokens: 256 },
      },
      { clock: systemClock, logger: silentLogger },
    )
    expect((await built.complete(request)).provider).toBe('claude')
    expect(fake.requests.at(-1)!.json().max_tokens).toBe(256)
    await built.close?.()
  })
})

describeProviderFailures({
  name: 'anthropic',
  start: () => startAnthropicServer(API_KEY),
  provider: (baseURL, timeoutMs) => anthropic({ apiKey: API_KEY, baseURL, timeoutMs }),
  request,
  partialStream: {
    headers: { 'content-type': 'text/event-stream' },
    chunks: transcriptUntil('anthropic', 'stream-text.sse', 'content_block_stop'),
  },
  errorBody: { type: 'error', error: { type: 'api_error', message: 'failure' } },
  secret: API_KEY,
})
