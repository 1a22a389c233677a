import { randomBytes } from 'node:crypto'
import Anthropic from '@anthropic-ai/sdk'
import { ContinuumError } from 'continuum-proxy'
import { anthropicStreamError } from 'continuum-proxy/adapters'
import { createEncryptedFetch } from 'continuum-proxy/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  anthropicReplyFor,
  anthropicToolInputFor,
  startAnthropicUpstream,
  TOOL_USE_ID,
} from '../kit/anthropic'
import type { FakeUpstream } from '../kit/server'
import { type RunningProxy, recordWire, startExpressProxy, type WireRecorder, wireText } from './harness'

const key = randomBytes(32)
let upstream: FakeUpstream
let proxy: RunningProxy
let optionalProxy: RunningProxy

beforeAll(async () => {
  upstream = await startAnthropicUpstream()
  proxy = await startExpressProxy({ upstream: upstream.url, keys: { keys: [{ id: 'k1', key }] } })
  optionalProxy = await startExpressProxy({
    upstream: upstream.url,
    keys: { keys: [{ id: 'k1', key }] },
    encryption: 'optional',
  })
})

afterAll(async () => {
  await proxy.close()
  await optionalProxy.close()
  await upstream.close()
})

function client(recorder?: WireRecorder): Anthropic {
  return new Anthropic({
    baseURL: proxy.url,
    apiKey: 'sk-ant-test',
    maxRetries: 0,
    fetch: createEncryptedFetch({
      keyId: 'k1',
      key,
      // A seal per event: these tests read the adapter's plain fields on the wire.
      streamBatches: false,
      ...(recorder === undefined ? {} : { fetch: recorder.fetch }),
    }),
  })
}

const weatherTool = {
  name: 'get_weather',
  description: 'Get the current weather in a given location',
  input_schema: {
    type: 'object' as const,
    properties: { location: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
    required: ['location'],
  },
}

async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of stream) {
    // read to the end
  }
}

describe('Anthropic adapter through Express with the official SDK', () => {
  it('creates a message with encrypted system prompt, content and output', async () => {
    const recorder = recordWire()
    const message = await client(recorder).messages.create({
      model: 'claude-sonnet-4-20250514',
      max_tokens: 256,
      system: [{ type: 'text', text: 'classified system instructions' }],
      messages: [{ role: 'user', content: 'the launch code is lima tango' }],
      stop_sequences: ['secret-stop'],
      metadata: { user_id: 'user-7f3a' },
    })
    expect(message.content).toEqual([
      { type: 'text', text: anthropicReplyFor('the launch code is lima tango') },
    ])
    expect(message.stop_reason).toBe('end_turn')
    expect(message.usage.input_tokens).toBe(2095)
    const wire = await wireText(recorder)
    expect(wire).toContain('cp2.k1.')
    for (const secret of ['lima tango', 'classified', 'secret-stop', 'claude heard'])
      expect(wire).not.toContain(secret)
    // Routing metadata stays readable for load balancers.
    expect(recorder.requests[0]).toContain('"model":"claude-sonnet-4-20250514"')
    expect(recorder.requests[0]).toContain('"max_tokens":256')
    expect(recorder.requests[0]).toContain('"user_id":"user-7f3a"')
    const received = JSON.parse(upstream.requests.at(-1)!.body)
    expect(received.system[0].text).toBe('classified system instructions')
    expect(received.messages[0].content).toBe('the launch code is lima tango')
    expect(received.stop_sequences).toEqual(['secret-stop'])
  })

  it('streams text with messages.stream() and no plaintext on the wire', async () => {
    const recorder = recordWire()
    const stream = client(recorder).messages.stream({
      model: 'claude-sonnet-4-20250514',
      max_tokens: 256,
      messages: [{ role: 'user', content: 'whisper the quarterly numbers' }],
    })
    const deltas: string[] = []
    stream.on('text', (text) => deltas.push(text))
    const final = await stream.finalMessage()
    const expected = anthropicReplyFor('whisper the quarterly numbers')
    expect(deltas.join('')).toBe(expected)
    expect(deltas.length).toBeGreaterThan(1)
    expect(final.content).toEqual([{ type: 'text', text: expected }])
    expect(final.stop_reason).toBe('end_turn')
    expect(final.usage.output_tokens).toBe(15)
    const wire = await wireText(recorder)
    expect(wire).toContain('event: content_block_delta')
    expect(wire).toContain('"type":"text_delta"')
    for (const secret of ['quarterly', 'claude heard']) expect(wire).not.toContain(secret)
  })

  it('streams tool use with create({ stream: true }) and continues with a tool_result', async () => {
    const recorder = recordWire()
    const anthropic = client(recorder)
    const stream = await anthropic.messages.create({
      model: 'claude-sonnet-4-20250514',
      max_tokens: 256,
      stream: true,
      tools: [weatherTool],
      tool_choice: { type: 'auto' },
      messages: [{ role: 'user', content: 'what is the weather in Reykjavik' }],
    })
    let json = ''
    let toolName = ''
    let stopReason: string | null = null
    for await (const event of stream) {
      if (event.type === 'content_block_start' && event.content_block.type === 'tool_use') {
        toolName = event.content_block.name
        expect(event.content_block.id).toBe(TOOL_USE_ID)
      }
      if (event.type === 'content_block_delta' && event.delta.type === 'input_json_delta') {
        json += event.delta.partial_json
      }
      if (event.type === 'message_delta') stopReason = event.delta.stop_reason
    }
    expect(toolName).toBe('get_weather')
    expect(JSON.parse(json)).toEqual(anthropicToolInputFor('what is the weather in Reykjavik'))
    expect(stopReason).toBe('tool_use')

    const followUp = await anthropic.messages.create({
      model: 'claude-sonnet-4-20250514',
      max_tokens: 256,
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'what is the weather in Reykjavik' },
        {
          role: 'assistant',
          content: [{ type: 'tool_use', id: TOOL_USE_ID, name: 'get_weather', input: JSON.parse(json) }],
        },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: TOOL_USE_ID, content: 'minus four and sleet' }],
        },
      ],
    })
    expect(followUp.content).toEqual([{ type: 'text', text: anthropicReplyFor('minus four and sleet') }])
    const received = JSON.parse(upstream.requests.at(-1)!.body)
    expect(received.messages[2].content[0]).toEqual({
      type: 'tool_result',
      tool_use_id: TOOL_USE_ID,
      content: 'minus four and sleet',
    })
    expect(received.tools[0].name).toBe('get_weather')
    const wire = await wireText(recorder)
    for (const secret of ['Reykjavik', 'get_weather', 'Get the current weather', 'sleet']) {
      expect(wire).not.toContain(secret)
    }
  })

  it('returns tool_use blocks from a non-streaming create', async () => {
    const message = await client().messages.create({
      model: 'claude-sonnet-4-20250514',
      max_tokens: 256,
      tools: [weatherTool],
      tool_choice: { type: 'tool', name: 'get_weather' },
      messages: [{ role: 'user', content: [{ type: 'text', text: 'weather for Oslo' }] }],
    })
    expect(message.stop_reason).toBe('tool_use')
    expect(message.content[1]).toEqual({
      type: 'tool_use',
      id: TOOL_USE_ID,
      name: 'get_weather',
      input: anthropicToolInputFor('weather for Oslo'),
    })
  })

  it('counts tokens with an encrypted request and a plain count', async () => {
    const recorder = recordWire()
    const counted = await client(recorder).messages.countTokens({
      model: 'claude-sonnet-4-20250514',
      messages: [{ role: 'user', content: 'count these five secret words' }],
    })
    expect(counted.input_tokens).toBe(15)
    const [response] = await recorder.responses()
    expect(JSON.parse(response!)).toMatchObject({ input_tokens: 15 })
    expect(recorder.requests[0]).not.toContain('secret words')
  })

  it('relays an upstream error body encrypted, readable by the SDK', async () => {
    const recorder = recordWire()
    const failure = await client(recorder)
      .messages.create({
        model: 'upstream-400',
        max_tokens: 16,
        messages: [{ role: 'user', content: 'forbidden fruit' }],
      })
      .catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(Anthropic.BadRequestError)
    expect((failure as InstanceType<typeof Anthropic.BadRequestError>).message).toContain(
      'prompt rejected: forbidden fruit',
    )
    expect(await wireText(recorder)).not.toContain('forbidden')
  })

  it('surfaces a connection cut mid-stream as an error', async () => {
    const stream = await client().messages.create({
      model: 'cut-stream',
      max_tokens: 64,
      stream: true,
      messages: [{ role: 'user', content: 'one two three four five six' }],
    })
    await expect(drain(stream)).rejects.toMatchObject({ code: 'CONTINUUM_UPSTREAM_STREAM_ABORTED' })
  })

  it('treats a stream that ends without message_stop as cut', async () => {
    const stream = client().messages.stream({
      model: 'no-stop',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'tell me everything' }],
    })
    await expect(stream.finalMessage()).rejects.toThrow(/without its terminal event/)
  })

  it('delivers an upstream error event sealed, as an SDK APIError', async () => {
    const stream = await client().messages.create({
      model: 'overloaded',
      max_tokens: 64,
      stream: true,
      messages: [{ role: 'user', content: 'one two three four' }],
    })
    const failure = await drain(stream).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(Anthropic.APIError)
    expect((failure as InstanceType<typeof Anthropic.APIError>).type).toBe('overloaded_error')
  })

  it('renders proxy stream errors in Anthropic shape for plain clients', async () => {
    const plain = new Anthropic({ baseURL: optionalProxy.url, apiKey: 'sk-ant-test', maxRetries: 0 })
    const stream = await plain.messages.create({
      model: 'cut-stream',
      max_tokens: 64,
      stream: true,
      messages: [{ role: 'user', content: 'one two three four five six' }],
    })
    const failure = await drain(stream).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(Anthropic.APIError)
    const apiError = failure as InstanceType<typeof Anthropic.APIError>
    expect(apiError.type).toBe('api_error')
    expect(apiError.error).toMatchObject({
      type: 'error',
      error: { type: 'api_error', code: 'CONTINUUM_UPSTREAM_STREAM_ABORTED' },
    })
  })

  it('renders stream errors as an `error` event with the Anthropic body and our code', () => {
    const event = anthropicStreamError(new ContinuumError('CONTINUUM_SCHEMA_VIOLATION', 'bad shape'))
    expect(event).toEqual({
      name: 'error',
      data: {
        type: 'error',
        error: { type: 'invalid_request_error', message: 'bad shape', code: 'CONTINUUM_SCHEMA_VIOLATION' },
      },
    })
  })

  it('answers 400 CONTINUUM_SCHEMA_VIOLATION with the failing path', async () => {
    const encryptedFetch = createEncryptedFetch({ keyId: 'k1', key })
    const cases: [Record<string, unknown>, string][] = [
      [{ model: 'claude', max_tokens: 8, messages: [{ role: 'system', content: 'x' }] }, '/messages/0/role'],
      [{ model: 'claude', messages: [{ role: 'user', content: 'x' }] }, '/'],
      [
        { model: 'claude', max_tokens: 8, messages: [{ role: 'user', content: [{ text: 'x' }] }] },
        '/messages/0/content',
      ],
      [
        {
          model: 'claude',
          max_tokens: 8,
          messages: [{ role: 'user', content: 'x' }],
          tool_choice: { type: 'tool' },
        },
        '/tool_choice',
      ],
    ]
    for (const [body, path] of cases) {
      const response = await encryptedFetch(`${proxy.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      expect(response.status).toBe(400)
      const error = ((await response.json()) as { error: { code: string; path: string } }).error
      expect(error.code).toBe('CONTINUUM_SCHEMA_VIOLATION')
      expect(error.path).toBe(path)
    }
  })

  it('passes the model list through untouched', async () => {
    const page = await client().models.list()
    expect(page.data[0]?.id).toBe('claude-sonnet-4-20250514')
    expect(upstream.requests.at(-1)).toMatchObject({ method: 'GET', url: '/v1/models' })
  })
})
