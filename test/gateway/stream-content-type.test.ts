/**
 * Regression: a provider that answers a streaming request with a whole 200 `application/json`
 * body, not its stream. Read as a stream, the body held no event and passed for a stream cut short,
 * CONTINUUM_UPSTREAM_STREAM_ABORTED, which the router retried (three times the same answer). Each
 * provider now names the content type it streams in, and another one is 502
 * CONTINUUM_UPSTREAM_PROTOCOL_ERROR, asked once. A JSON body that is an error object keeps the
 * mapping the provider gives the same object inside its stream. Through the gateway on a real
 * Express socket, with the official OpenAI SDK streaming, to each built-in provider type.
 */
import { InferenceRouter } from 'continuum-proxy/router'
import OpenAI from 'openai'
import { afterEach, describe, expect, it } from 'vitest'
import { rootFrameworks } from '../conformance/frameworks'
import { jsonReply } from '../kit/replies'
import { FakeUpstream, type Reply } from '../kit/server'
import { drain, openaiClient, providerAt, SERVED_MODEL } from './support'

const express = rootFrameworks.find((harness) => harness.name === 'express')!
const MODEL = SERVED_MODEL

/** Each provider type, and the path part of its stream request. */
const PROVIDERS = [
  {
    name: 'anthropic',
    stream: '/v1/messages',
    provider: providerAt.anthropic,
  },
  {
    name: 'openai',
    stream: '/chat/completions',
    provider: providerAt.openai,
  },
  {
    name: 'vllm',
    stream: '/chat/completions',
    provider: providerAt.vllm,
  },
  {
    name: 'ollama',
    stream: '/api/chat',
    provider: providerAt.ollama,
  },
  {
    name: 'tgi',
    stream: '/chat/completions',
    provider: providerAt.tgi,
  },
  {
    name: 'vertex',
    stream: 'streamGenerateContent',
    provider: providerAt.vertex,
  },
  {
    name: 'bedrock',
    stream: 'converse-stream',
    provider: providerAt.bedrock,
  },
]

/** A 200 JSON body that is a whole answer of no provider's stream (and no error object). */
const WHOLE: Reply = {
  kind: 'body',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ id: 'x', answer: 'a whole body' }),
}

describe('a provider answering a stream request with a JSON body', () => {
  const opened: { close(): Promise<unknown> }[] = []
  afterEach(async () => {
    for (const item of opened.splice(0).reverse()) await item.close()
  })

  async function gateway(item: (typeof PROVIDERS)[number], ...replies: Reply[]) {
    const fake = await FakeUpstream.start(() => jsonReply({ error: 'unexpected request' }, 500))
    opened.push(fake)
    fake.queue(...replies)
    const router = new InferenceRouter({
      providers: [item.provider(fake.url)],
      retry: { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 1 },
      breaker: { failureThreshold: 1000, minimumRequests: 1000 },
    })
    opened.push(router)
    const app = await express.start({ router })
    opened.push(app)
    const failure = await openaiClient(app.url, false)
      .chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }], stream: true })
      .then(drain)
      .catch((error: unknown) => error)
    const streamCalls = fake.requests.filter((request) => request.url.includes(item.stream)).length
    return { failure, streamCalls }
  }

  it.each(PROVIDERS)('$name: a protocol error, asked once', async (item) => {
    const { failure, streamCalls } = await gateway(item, WHOLE, WHOLE, WHOLE)
    expect(failure).toBeInstanceOf(OpenAI.InternalServerError)
    expect(failure).toMatchObject({ status: 502, code: 'CONTINUUM_UPSTREAM_PROTOCOL_ERROR' })
    expect((failure as Error).message).toContain('application/json')
    expect(streamCalls).toBe(1)
  })

  it.each([
    [
      'openai',
      { error: { message: 'Slow down', type: 'rate_limit', code: 429 } },
      429,
      'CONTINUUM_PROVIDER_RATE_LIMITED',
    ],
    [
      'anthropic',
      { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
      502,
      'CONTINUUM_PROVIDER_ERROR',
    ],
    ['ollama', { error: 'model runner crashed' }, 502, 'CONTINUUM_PROVIDER_ERROR'],
    ['tgi', { error: 'Input validation error', error_type: 'validation' }, 502, 'CONTINUUM_PROVIDER_ERROR'],
    [
      'vertex',
      { error: { code: 400, message: 'Bad', status: 'INVALID_ARGUMENT' } },
      400,
      'CONTINUUM_PROVIDER_BAD_REQUEST',
    ],
  ])(
    '%s: an error object in the body is mapped as the same object in its stream',
    async (name, body, status, code) => {
      const item = PROVIDERS.find((candidate) => candidate.name === name)!
      const reply = jsonReply(body, 200)
      const { failure } = await gateway(item, reply, reply, reply)
      expect(failure).toBeInstanceOf(OpenAI.APIError)
      expect(failure).toMatchObject({ status, code })
      expect(JSON.stringify((failure as InstanceType<typeof OpenAI.APIError>).error)).not.toContain(
        'Slow down',
      )
    },
  )

  it('a stream labelled `Text/Event-Stream; charset=UTF-8` is still read as one', async () => {
    const item = PROVIDERS.find((candidate) => candidate.name === 'vllm')!
    const events = [
      {
        id: 'c',
        object: 'chat.completion.chunk',
        created: 1,
        model: MODEL,
        choices: [{ index: 0, delta: { role: 'assistant', content: 'Hi' }, finish_reason: null }],
      },
      {
        id: 'c',
        object: 'chat.completion.chunk',
        created: 1,
        model: MODEL,
        choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
      },
    ]
    const body = `${events.map((event) => `data: ${JSON.stringify(event)}\n\n`).join('')}data: [DONE]\n\n`
    const { failure, streamCalls } = await gateway(item, {
      kind: 'body',
      headers: { 'content-type': 'Text/Event-Stream; charset=UTF-8' },
      body,
    })
    expect(failure).toBeUndefined()
    expect(streamCalls).toBe(1)
  })
})
