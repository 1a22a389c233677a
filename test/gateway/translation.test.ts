/**
 * The gateway's translations in isolation: OpenAI and Anthropic request bodies to canonical
 * requests (system prompts, images, tool calls and results, refusals by path), the two stream
 * encoders, and `createRouterUpstream` over an in-test provider (request metadata from headers,
 * dialect errors, a stream whose reader leaves).
 */

import { AdapterRegistry, ContinuumError, type UpstreamRequest, type UpstreamResponse } from 'continuum-proxy'
import { builtinAdapters } from 'continuum-proxy/adapters'
import { InferenceRouter } from 'continuum-proxy/router'
import { describe, expect, it } from 'vitest'
import { fromAnthropicRequest } from '../../adapters/anthropic/gateway/request'
import { AnthropicEventEncoder } from '../../adapters/anthropic/gateway/stream'
import { fromOpenAIChatRequest, fromOpenAIEmbeddingRequest } from '../../adapters/openai/gateway/request'
import { OpenAIChunkEncoder } from '../../adapters/openai/gateway/stream'
import { createRouterUpstream } from '../../src/router/gateway'
import { FakeProvider } from '../router/fake-provider'

const SECRET = 'private words 271828'

function codeOf(run: () => unknown): string | undefined {
  try {
    run()
  } catch (error) {
    expect(String((error as Error).message)).not.toContain(SECRET)
    return ContinuumError.isInstance(error) ? error.code : 'not a ContinuumError'
  }
  return undefined
}

/** A JSON body as text; a stream as its events' data, one JSON text a line, ending with the error if it failed. */
async function textOf(response: UpstreamResponse): Promise<string> {
  const body = response.body
  if (body.type === 'json') return JSON.stringify(body.value)
  if (body.type === 'bytes') throw new Error('the gateway answers with objects')
  const lines: string[] = []
  try {
    for await (const event of body.events) lines.push(JSON.stringify(event.data))
  } catch (error) {
    lines.push(JSON.stringify({ failed: ContinuumError.isInstance(error) ? error.code : String(error) }))
  }
  return lines.join('\n')
}

const registry = new AdapterRegistry(builtinAdapters())

/** An upstream request on a built-in route, as the pipeline sends it. */
function routed(
  method: string,
  url: string,
  headers: Record<string, string>,
  value: Record<string, unknown> | undefined,
): UpstreamRequest {
  const lookup = registry.lookup(method, url.split('?')[0]!, headers)
  return {
    method,
    url,
    headers,
    body: value === undefined ? { type: 'empty' } : { type: 'json', value },
    signal: new AbortController().signal,
    route: lookup.kind === 'match' ? lookup.match : undefined,
  }
}

describe('OpenAI requests to canonical', () => {
  it('maps system prompts, images, tool calls, tool results and sampling', () => {
    const { request, stream, includeUsage } = fromOpenAIChatRequest({
      model: 'm',
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 10,
      max_completion_tokens: 20,
      temperature: 0.5,
      top_p: 0.9,
      stop: 'END',
      tool_choice: { type: 'function', function: { name: 'lookup' } },
      tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }],
      messages: [
        { role: 'system', content: 'one' },
        { role: 'developer', content: [{ type: 'text', text: 'two' }] },
        {
          role: 'user',
          content: [
            { type: 'text', text: SECRET },
            { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,AAAA' } },
            { type: 'image_url', image_url: { url: 'https://example.com/a.png' } },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'lookup', arguments: '{"q":1}' } }],
        },
        { role: 'tool', tool_call_id: 'c1', content: 'result' },
        { role: 'system', content: 'late' },
      ],
    })
    expect(stream).toBe(true)
    expect(includeUsage).toBe(true)
    // Nothing here is OpenAI-only / Anthropic-only: any provider can take it.
    expect(request.native?.only).toEqual([])
    expect({ ...request, native: undefined }).toEqual({
      model: 'm',
      system: 'one\n\ntwo',
      maxTokens: 20,
      temperature: 0.5,
      topP: 0.9,
      stop: ['END'],
      toolChoice: { name: 'lookup' },
      tools: [{ name: 'lookup', parameters: { type: 'object' } }],
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: SECRET },
            { type: 'image', mediaType: 'image/jpeg', data: 'AAAA' },
            { type: 'image', url: 'https://example.com/a.png' },
          ],
        },
        { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'lookup', arguments: '{"q":1}' }] },
        { role: 'tool', content: 'result', toolCallId: 'c1' },
        { role: 'system', content: 'late' },
      ],
    })
  })

  it('lists what only OpenAI carries by path, never by content, and refuses what is malformed', () => {
    const user = { role: 'user', content: SECRET }
    expect(fromOpenAIChatRequest({ model: 'm', n: 2, messages: [user] }).request.native?.only).toEqual(['n'])
    const audio = fromOpenAIChatRequest({
      model: 'm',
      messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: SECRET } }] }],
    })
    expect(audio.request.native?.only).toEqual(['messages[0].content[0]'])
    expect(JSON.stringify(audio.request.native?.only)).not.toContain(SECRET)
    expect(
      fromOpenAIChatRequest({ model: 'm', messages: [{ role: 'function', content: SECRET }] }).request.native
        ?.only,
    ).toEqual(['messages[0].role'])
    // A key that is free text is never echoed.
    expect(fromOpenAIChatRequest({ model: 'm', messages: [user], [SECRET]: 1 }).request.native?.only).toEqual(
      ['(unnamed parameter)'],
    )
    expect(
      codeOf(() => fromOpenAIChatRequest({ model: 'm', messages: [{ role: 'tool', content: SECRET }] })),
    ).toBe('CONTINUUM_SCHEMA_VIOLATION')
    expect(codeOf(() => fromOpenAIEmbeddingRequest({ model: 'm', input: [[1, 2, 3]] }))).toBe(
      'CONTINUUM_NOT_SUPPORTED',
    )
    expect(
      codeOf(() => fromOpenAIEmbeddingRequest({ model: 'm', input: SECRET, encoding_format: 'hex' })),
    ).toBe('CONTINUUM_SCHEMA_VIOLATION')
    expect(fromOpenAIEmbeddingRequest({ model: 'm', input: SECRET })).toEqual({
      request: { model: 'm', input: [SECRET] },
      encoding: 'float',
    })
  })
})

describe('Anthropic requests to canonical', () => {
  it('maps system blocks, tool results ahead of text, tool use, images and tool choice', () => {
    const { request, stream } = fromAnthropicRequest({
      model: 'm',
      max_tokens: 64,
      stream: true,
      system: [
        { type: 'text', text: 'one' },
        { type: 'text', text: 'two' },
      ],
      stop_sequences: ['END'],
      tool_choice: { type: 'any' },
      tools: [{ name: 'lookup', description: 'd', input_schema: { type: 'object' } }],
      messages: [
        { role: 'user', content: SECRET },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'hidden', signature: 'sig' },
            { type: 'text', text: 'calling' },
            { type: 'tool_use', id: 't1', name: 'lookup', input: { q: 1 } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'and this' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } },
            { type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'found' }] },
          ],
        },
      ],
    })
    expect(stream).toBe(true)
    // Nothing here is OpenAI-only / Anthropic-only: any provider can take it.
    expect(request.native?.only).toEqual([])
    expect({ ...request, native: undefined }).toEqual({
      model: 'm',
      system: 'one\n\ntwo',
      maxTokens: 64,
      stop: ['END'],
      toolChoice: 'required',
      tools: [{ name: 'lookup', description: 'd', parameters: { type: 'object' } }],
      messages: [
        { role: 'user', content: SECRET },
        {
          role: 'assistant',
          content: 'calling',
          toolCalls: [{ id: 't1', name: 'lookup', arguments: '{"q":1}' }],
        },
        { role: 'tool', content: 'found', toolCallId: 't1' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'and this' },
            { type: 'image', data: 'AAAA', mediaType: 'image/png' },
          ],
        },
      ],
    })
  })

  it('lists server tools and unknown blocks by path, never by content', () => {
    const messages = [{ role: 'user', content: SECRET }]
    const tools = fromAnthropicRequest({
      model: 'm',
      max_tokens: 1,
      messages,
      tools: [{ type: 'web_search_20250305', name: 'web' }],
    })
    expect(tools.request.native?.only).toEqual(['tools[0] (web_search_20250305)'])
    const document = fromAnthropicRequest({
      model: 'm',
      max_tokens: 1,
      messages: [{ role: 'user', content: [{ type: 'document', source: { data: SECRET } }] }],
    })
    expect(document.request.native?.only).toEqual(['messages[0].content[0] (document)'])
    expect(
      codeOf(() =>
        fromAnthropicRequest({ model: 'm', max_tokens: 1, messages, tool_choice: { type: 'tool' } }),
      ),
    ).toBe('CONTINUUM_SCHEMA_VIOLATION')
  })
})

describe('stream encoders', () => {
  it('writes OpenAI chunks: role first, tool call header once, finish, usage on request, [DONE]', () => {
    const encoder = new OpenAIChunkEncoder({ id: 'chatcmpl-1', model: 'm', created: 7, includeUsage: true })
    const events: any[] = [
      encoder.push({ type: 'tool-call-delta', index: 0, id: 'c1', name: 'lookup', argumentsDelta: '{"q"' }),
      encoder.push({ type: 'tool-call-delta', index: 0, argumentsDelta: ':1}' }),
      encoder.push({ type: 'usage', usage: { inputTokens: 3, outputTokens: 4 } }),
      encoder.push({ type: 'finish', finishReason: 'tool_calls' }),
    ]
      .flat()
      .map((event) => event.data)
    expect(events.map((event) => event.choices[0]?.delta ?? null)).toEqual([
      {
        role: 'assistant',
        tool_calls: [
          { index: 0, id: 'c1', type: 'function', function: { name: 'lookup', arguments: '{"q"' } },
        ],
      },
      { tool_calls: [{ index: 0, function: { arguments: ':1}' } }] },
      {},
      null,
    ])
    expect(events[2].choices[0].finish_reason).toBe('tool_calls')
    expect(events[3]).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
    })
    expect(encoder.finished).toBe(true)
    const withoutUsage = new OpenAIChunkEncoder({ id: 'c', model: 'm', created: 1, includeUsage: false })
    withoutUsage.push({ type: 'usage', usage: { inputTokens: 1, outputTokens: 1 } })
    expect(JSON.stringify(withoutUsage.push({ type: 'finish', finishReason: 'stop' }))).not.toContain('usage')
  })

  it('writes Anthropic events with one block at a time and refuses interleaved tool calls', () => {
    const encoder = new AnthropicEventEncoder({ id: 'msg_1', model: 'm' })
    const events = [
      encoder.push({ type: 'text-delta', text: 'hi' }),
      encoder.push({ type: 'tool-call-delta', index: 0, id: 't1', name: 'a', argumentsDelta: '{}' }),
      encoder.push({ type: 'tool-call-delta', index: 1, name: 'b', argumentsDelta: '' }),
      encoder.push({ type: 'usage', usage: { inputTokens: 3, outputTokens: 4 } }),
      encoder.push({ type: 'finish', finishReason: 'tool_calls' }),
    ].flat()
    const text = events.map((event) => JSON.stringify(event.data)).join('\n')
    const names = events.map((event) => event.name)
    expect(names).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ])
    expect(text).toContain('"index":2,"content_block":{"type":"tool_use","id":"call_')
    expect(text).toContain('"stop_reason":"tool_use"')
    expect(text).toContain('"usage":{"input_tokens":3,"output_tokens":4}')

    const interleaved = new AnthropicEventEncoder({ id: 'msg_2', model: 'm' })
    interleaved.push({ type: 'tool-call-delta', index: 0, id: 'a', name: 'a', argumentsDelta: '' })
    interleaved.push({ type: 'tool-call-delta', index: 1, id: 'b', name: 'b', argumentsDelta: '' })
    expect(codeOf(() => interleaved.push({ type: 'tool-call-delta', index: 0, argumentsDelta: '{}' }))).toBe(
      'CONTINUUM_UPSTREAM_PROTOCOL_ERROR',
    )
  })
})

describe('createRouterUpstream', () => {
  function setup(options: Parameters<typeof createRouterUpstream>[1] = {}) {
    const provider = new FakeProvider('fake')
    const router = new InferenceRouter({ providers: [provider], retry: { maxRetries: 0 } })
    return { provider, router, upstream: createRouterUpstream(router, options) }
  }

  function chat(headers: Record<string, string> = {}, body: Record<string, unknown> = {}) {
    return routed('POST', '/v1/chat/completions', headers, {
      model: 'm',
      messages: [{ role: 'user', content: SECRET }],
      ...body,
    })
  }

  it('takes caller, trace and (when enabled) classification from headers', async () => {
    const { provider, router, upstream } = setup({
      classificationHeader: 'x-data-class',
      callerId: 'default-app',
    })
    await upstream.send(
      chat({
        'x-caller-id': 'team-a',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        'x-data-class': 'Confidential',
      }),
    )
    expect(provider.calls[0]?.metadata).toEqual({
      callerId: 'team-a',
      traceId: '0af7651916cd43dd8448eb211c80319c',
      classification: 'confidential',
    })
    await upstream.send(chat({ 'x-request-id': 'r-1' }))
    expect(provider.calls[1]?.metadata).toEqual({ callerId: 'default-app', traceId: 'r-1' })
    // A request id out of its shape (too long, or with characters records cannot carry) is no trace id.
    await upstream.send(chat({ 'x-request-id': 'r'.repeat(129) }))
    await upstream.send(chat({ 'x-request-id': 'r-1 traceId=forged' }))
    expect(provider.calls.slice(2).map((call) => call.metadata)).toEqual([
      { callerId: 'default-app' },
      { callerId: 'default-app' },
    ])
    const refused = await upstream.send(chat({ 'x-data-class': 'top-secret' }))
    expect(refused.status).toBe(400)
    expect(JSON.parse(await textOf(refused)).error.code).toBe('CONTINUUM_SCHEMA_VIOLATION')
    await router.close()
  })

  it('ignores a classification header unless configured, and validates its options', async () => {
    const { provider, router, upstream } = setup()
    await upstream.send(chat({ 'x-data-classification': 'public' }))
    expect(provider.calls[0]?.metadata?.classification).toBeUndefined()
    expect(() => createRouterUpstream(router, { callerIdHeader: 'bad header' })).toThrow(/callerIdHeader/)
    expect(() => createRouterUpstream(router, { callerId: '' })).toThrow(/callerId/)
    await router.close()
  })

  it('answers in the dialect of the route, by its codec, and refuses routes without one', async () => {
    const { router, upstream } = setup()
    const badMessages = await upstream.send(
      routed('POST', '/v1/messages', {}, { model: 'm', messages: 'no' }),
    )
    expect(badMessages.status).toBe(400)
    expect(JSON.parse(await textOf(badMessages))).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error', code: 'CONTINUUM_SCHEMA_VIOLATION' },
    })
    expect(badMessages.failure?.code).toBe('CONTINUUM_SCHEMA_VIOLATION')
    const models = await upstream.send(routed('GET', '/v1/models', {}, undefined))
    expect(models.status).toBe(200)
    expect(JSON.parse(await textOf(models))).toMatchObject({ object: 'list', data: [] })
    const anthropicModels = await upstream.send(
      routed('GET', '/v1/models', { 'anthropic-version': '2023-06-01' }, undefined),
    )
    expect(JSON.parse(await textOf(anthropicModels))).toMatchObject({ data: [], has_more: false })
    const missing = await upstream.send(routed('GET', '/v1/models/nope', {}, undefined))
    expect(missing.status).toBe(404)
    expect(JSON.parse(await textOf(missing)).error.code).toBe('CONTINUUM_MODEL_NOT_FOUND')
    await expect(
      upstream.send(routed('POST', '/v1/completions', {}, { model: 'm', prompt: 'x' })),
    ).rejects.toMatchObject({
      code: 'CONTINUUM_ROUTE_NOT_SUPPORTED',
    })
    await router.close()
  })

  it('aborts the provider stream when the reader stops early', async () => {
    const { provider, router, upstream } = setup()
    provider.setSteps([{ chunks: [{ type: 'text-delta', text: 'partial' }], hangAfter: true }])
    const response = await upstream.send(chat({}, { stream: true }))
    expect(response.status).toBe(200)
    if (response.body.type !== 'events') throw new Error('not a stream')
    for await (const event of response.body.events) {
      expect(JSON.stringify(event.data)).toContain('partial')
      break
    }
    await expect.poll(() => provider.streamsCleanedUp).toBe(1)
    await router.close()
  })

  it('releases the concurrency slot of a stream whose first chunk is an error', async () => {
    // A provider breaking the contract (only the router emits error chunks) with one as its first
    // chunk: the gateway answered the error but left the router stream suspended, so its slot, its
    // lease renewal and the provider request were held forever; `maxConcurrency` such answers
    // locked the provider for every caller.
    const provider = new FakeProvider('fake')
    const router = new InferenceRouter({
      providers: [provider],
      retry: { maxRetries: 0 },
      rateLimits: { fake: { maxConcurrency: 1 } },
    })
    const upstream = createRouterUpstream(router)
    const failure = new ContinuumError('CONTINUUM_PROVIDER_ERROR', 'upstream failed', { isRetryable: true })
    provider.setSteps([{ chunks: [{ type: 'error', error: failure }] }, 'ok'])
    const refused = await upstream.send(chat({}, { stream: true }))
    expect(refused.status).toBe(502)
    expect(JSON.parse(await textOf(refused)).error.code).toBe('CONTINUUM_STREAM_INTERRUPTED')
    const answered = await upstream.send(chat())
    expect(answered.status).toBe(200)
    expect(provider.streamsCleanedUp).toBe(1)
    await router.close()
  })

  it('fails a stream that stops without finishing, so the pipeline writes the error frame and no [DONE]', async () => {
    const { provider, router, upstream } = setup()
    provider.setSteps([{ chunks: [{ type: 'text-delta', text: 'partial' }] }])
    const text = await textOf(await upstream.send(chat({}, { stream: true })))
    expect(text).toContain('partial')
    expect(text.split('\n').at(-1)).toBe('{"failed":"CONTINUUM_STREAM_INTERRUPTED"}')
    await router.close()
  })
})
