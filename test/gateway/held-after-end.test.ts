/**
 * Through the gateway, with the official OpenAI SDK: a provider that sends its whole stream, its
 * terminal event included (`[DONE]` for Chat Completions, `response.completed` for the Responses
 * API, forwarded in its own dialect), and then holds the connection open. The client must get the
 * complete answer and the stream's end, not an error frame a stream-idle timeout later (its SDK
 * raised, and a client retrying paid for the answer twice), and the upstream request must close.
 */
import { openai, vllm } from 'continuum-proxy/providers'
import { InferenceRouter } from 'continuum-proxy/router'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningApp, rootFrameworks } from '../conformance/frameworks'
import { openaiDialect, startOpenAIServer } from '../kit/openai'
import { transcript, transcriptLines } from '../kit/replies'
import type { FakeUpstream } from '../kit/server'
import { LLAMA_MODEL, openaiClient } from './support'

const express = rootFrameworks.find((harness) => harness.name === 'express')!

describe('a stream whose provider holds the connection after its terminal event', () => {
  let fake: FakeUpstream
  let router: InferenceRouter
  let app: RunningApp
  beforeAll(async () => {
    fake = await startOpenAIServer(openaiDialect(undefined))
    router = new InferenceRouter({
      providers: [
        openai({ id: 'openai', apiKey: 'sk-upstream', baseURL: `${fake.url}/v1`, models: ['gpt-4o-mini'] }),
        vllm({ id: 'local-vllm', endpoints: [fake.url], models: [LLAMA_MODEL] }),
      ],
      aliases: { llama: { 'local-vllm': LLAMA_MODEL } },
      retry: { maxRetries: 0 },
      // Short, so that the old wait for more bytes ends this test quickly instead of hanging it.
      timeouts: { streamIdleMs: 200 },
    })
    app = await express.start({ router })
  })
  afterAll(async () => {
    await app.close()
    await router.close()
    await fake.close()
  })

  function holdAfter(protocol: string, file: string): Promise<void> {
    fake.clientCloses = 0
    const closed = fake.waitForClientClose()
    fake.queue({
      kind: 'chunks',
      headers: { 'content-type': 'text/event-stream' },
      chunks: transcriptLines(transcript(protocol, file)),
      ending: 'hold',
    })
    return closed
  }

  it('Chat Completions: the SDK reads the whole answer to its end', async () => {
    const closed = holdAfter('vllm', 'chat-stream-text.sse')
    const client = openaiClient(app.url, false)
    const stream = await client.chat.completions.create({
      model: 'llama',
      messages: [{ role: 'user', content: 'Why is the sky blue?' }],
      stream: true,
    })
    const finishes: string[] = []
    for await (const chunk of stream) {
      for (const choice of chunk.choices) if (choice.finish_reason) finishes.push(choice.finish_reason)
    }
    expect(finishes).toEqual(['stop'])
    await closed
  })

  it('Responses API, forwarded verbatim: the SDK reads every event to response.completed', async () => {
    const closed = holdAfter('openai', 'responses-stream.sse')
    const client = openaiClient(app.url, false)
    const stream = await client.responses.create({ model: 'gpt-4o-mini', input: 'Hi', stream: true })
    const types: string[] = []
    for await (const event of stream) types.push(event.type)
    expect(types[0]).toBe('response.created')
    expect(types.at(-1)).toBe('response.completed')
    await closed
  })
})
