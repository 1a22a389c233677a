/**
 * Errors never carry request or answer content, and that holds for their `cause` chain too: pino's
 * err serializer, `util.inspect` and `console.error` print every cause's message. V8's JSON.parse
 * quotes the text around the position it stopped at (the whole text when it is short), so an
 * error built with the SyntaxError as its cause carried a piece of the completion (an upstream's
 * broken stream event, NDJSON line or JSON body) or of the decrypted request (a tool call's
 * arguments that are not JSON) into whatever logs the caller's error. Each case here puts a
 * secret right where the parse stops and reads the whole error, causes included.
 */
import { inspect } from 'node:util'
import type { CanonicalRequest, StreamChunk } from 'continuum-proxy'
import { anthropic, ollama, openai } from 'continuum-proxy/providers'
import { InferenceRouter } from 'continuum-proxy/router'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jsonReply, sseFrame } from '../kit/replies'
import { FakeUpstream } from '../kit/server'
import { caught } from './caught'

/** What must never be printed: V8 quotes about ten characters either side of the error. */
const SECRET = 'SSN-078-05-1120'
const MARKER = 'SSN-078'

const request: CanonicalRequest = { model: 'served-model', messages: [{ role: 'user', content: 'Hi' }] }

/** Everything a logger could print of an error: messages, details and stacks, causes included. */
function printed(error: unknown): string {
  return inspect(error, { depth: 10 })
}

async function lastChunk(stream: AsyncIterable<StreamChunk>): Promise<StreamChunk | undefined> {
  let last: StreamChunk | undefined
  for await (const chunk of stream) last = chunk
  return last
}

describe('errors keep content out of their causes', () => {
  let fake: FakeUpstream
  beforeAll(async () => {
    fake = await FakeUpstream.start(() => jsonReply({ error: 'nothing queued' }, 500))
  })
  afterAll(async () => {
    await fake.close()
  })

  it('an OpenAI stream event that is not JSON, through the router', async () => {
    const provider = openai({ apiKey: 'sk-test', baseURL: `${fake.url}/v1` })
    const router = new InferenceRouter({ providers: [provider] })
    const first = { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm' }
    fake.queue({
      kind: 'chunks',
      headers: { 'content-type': 'text/event-stream' },
      chunks: [
        sseFrame({ ...first, choices: [{ index: 0, delta: { role: 'assistant', content: 'ok' } }] }),
        sseFrame(`{"choices":[{"index":0,"delta":{"content":[${SECRET}]}}]}`),
      ],
    })
    const last = await lastChunk(router.stream(request))
    expect(last?.type).toBe('error')
    const error = (last as Extract<StreamChunk, { type: 'error' }>).error
    expect(error.code).toBe('CONTINUUM_STREAM_INTERRUPTED')
    expect(error.details?.upstreamCode).toBe('CONTINUUM_UPSTREAM_PROTOCOL_ERROR')
    expect(printed(error)).not.toContain(MARKER)
    await router.close()
  })

  it('an Ollama NDJSON line that is not JSON', async () => {
    const provider = ollama({ baseURL: fake.url, models: ['served-model'] })
    fake.queue({
      kind: 'chunks',
      headers: { 'content-type': 'application/x-ndjson' },
      chunks: [`{"model":"served-model","message":{"role":"assistant","content":[${SECRET}]}}\n`],
    })
    const error = await caught(lastChunk(provider.stream(request)))
    expect(error.code).toBe('CONTINUUM_UPSTREAM_PROTOCOL_ERROR')
    expect(printed(error)).not.toContain(MARKER)
    await provider.close?.()
  })

  it('a 200 JSON body that is not JSON', async () => {
    const provider = openai({ apiKey: 'sk-test', baseURL: `${fake.url}/v1` })
    fake.queue({
      kind: 'body',
      headers: { 'content-type': 'application/json' },
      body: `{"id":"c","choices":[${SECRET}]}`,
    })
    const error = await caught(provider.complete(request))
    expect(error.code).toBe('CONTINUUM_UPSTREAM_PROTOCOL_ERROR')
    expect(printed(error)).not.toContain(MARKER)
    await provider.close?.()
  })

  it("a tool call's arguments that are not JSON, refused before sending", async () => {
    const provider = anthropic({ apiKey: 'sk-ant-test', baseURL: fake.url, models: ['served-model'] })
    const before = fake.requests.length
    const error = await caught(
      provider.complete({
        ...request,
        messages: [
          { role: 'user', content: 'Look me up' },
          { role: 'assistant', content: '', toolCalls: [{ id: 't', name: 'lookup', arguments: SECRET }] },
          { role: 'tool', toolCallId: 't', content: 'found' },
        ],
      }),
    )
    expect(error.code).toBe('CONTINUUM_SCHEMA_VIOLATION')
    expect(error.details?.path).toBe('messages[1].toolCalls[0].arguments')
    expect(printed(error)).not.toContain(MARKER)
    expect(fake.requests.length).toBe(before)
    await provider.close?.()
  })
})
