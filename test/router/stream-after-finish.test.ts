/**
 * A stream is whole once its `finish` chunk is out: Anthropic's `message_stop`, OpenAI's and
 * vLLM's `[DONE]`, Ollama's `done: true` line. An upstream that sends that terminal event and
 * then keeps the connection open (a buggy server or a proxy holding the last chunk back) made the
 * router wait for more, so the consumer's stream did not end until `streamIdleMs` (a minute by
 * default), then ended with CONTINUUM_STREAM_INTERRUPTED after the complete answer (the gateway
 * wrote the dialect's error frame, the SDK raised and its caller retried a paid answer), and the
 * breaker counted the success as a failure. The router now ends the stream at its finish, as a
 * success, and closes the upstream request. Yet a server that ends its body a moment after the
 * terminal event (the end of a chunked body is a write of its own) keeps its keep-alive
 * connection: the rest is drained, not aborted, or every stream would open a connection of its own.
 */
import type { StreamChunk } from 'continuum-proxy'
import type { InferenceProvider } from 'continuum-proxy/provider-kit'
import { anthropic, ollama, vllm } from 'continuum-proxy/providers'
import { InferenceRouter, type RouterEvent } from 'continuum-proxy/router'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startAnthropicServer } from '../kit/anthropic'
import { startOllamaServer } from '../kit/ollama'
import { openaiDialect, startOpenAIServer } from '../kit/openai'
import { transcript, transcriptLines } from '../kit/replies'
import type { FakeUpstream } from '../kit/server'

interface Case {
  name: string
  start(): Promise<FakeUpstream>
  provider(url: string): InferenceProvider
  /** The whole stream in the protocol's framing, terminal event included. */
  stream: { contentType: string; protocol: string; file: string }
}

const cases: Case[] = [
  {
    name: 'anthropic (message_stop)',
    start: () => startAnthropicServer('sk-ant-test'),
    provider: (baseURL) => anthropic({ apiKey: 'sk-ant-test', baseURL, models: ['served-model'] }),
    stream: { contentType: 'text/event-stream', protocol: 'anthropic', file: 'stream-text.sse' },
  },
  {
    name: 'vllm ([DONE])',
    start: () => startOpenAIServer(openaiDialect(undefined), 'vllm'),
    provider: (url) => vllm({ endpoints: [url], models: ['served-model'] }),
    stream: { contentType: 'text/event-stream', protocol: 'vllm', file: 'chat-stream-text.sse' },
  },
  {
    name: 'ollama (done: true)',
    start: () => startOllamaServer(),
    provider: (baseURL) => ollama({ baseURL, models: ['served-model'] }),
    stream: { contentType: 'application/x-ndjson', protocol: 'ollama', file: 'chat-stream.ndjson' },
  },
]

describe.each(cases)('a $name stream whose upstream holds the connection after its end', (suite) => {
  let fake: FakeUpstream
  let router: InferenceRouter
  const events: RouterEvent[] = []
  beforeAll(async () => {
    fake = await suite.start()
    router = new InferenceRouter({
      providers: [suite.provider(fake.url)],
      retry: { maxRetries: 0 },
      // Short, so that the router's old wait for more ends this test quickly instead of hanging it.
      timeouts: { streamIdleMs: 200 },
      onEvent: (event) => events.push(event),
    })
  })
  afterAll(async () => {
    await router.close()
    await fake.close()
  })

  it('ends with the finish as a success and closes the upstream request', async () => {
    const { contentType, protocol, file } = suite.stream
    fake.clientCloses = 0
    const closed = fake.waitForClientClose()
    fake.queue({
      kind: 'chunks',
      headers: { 'content-type': contentType },
      chunks: transcriptLines(transcript(protocol, file)),
      ending: 'hold',
    })
    const chunks: StreamChunk[] = []
    for await (const chunk of router.stream({
      model: 'served-model',
      messages: [{ role: 'user', content: 'Hi' }],
    })) {
      chunks.push(chunk)
    }
    expect(chunks.filter((chunk) => chunk.type === 'error')).toEqual([])
    expect(chunks.at(-1)?.type).toBe('finish')
    expect(chunks.some((chunk) => chunk.type === 'text-delta')).toBe(true)
    const end = events.find((event) => event.type === 'attempt-end')
    expect(end).toMatchObject({ outcome: 'success' })
    // The held request is not left running.
    await closed
    expect(fake.clientCloses).toBe(1)
  })

  it('keeps its connection when the server ends the body a moment after the terminal event', async () => {
    // A fake and a router of its own: a connection the held test above cut must not count here.
    const { contentType, protocol, file } = suite.stream
    const own = await suite.start()
    const ownRouter = new InferenceRouter({ providers: [suite.provider(own.url)], retry: { maxRetries: 0 } })
    let connections = 0
    own.server.on('connection', () => {
      connections++
    })
    const lines = transcriptLines(transcript(protocol, file))
    try {
      for (let stream = 0; stream < 4; stream++) {
        own.queue({
          kind: 'chunks',
          headers: { 'content-type': contentType },
          chunks: (async function* () {
            yield* lines
            await new Promise((resolve) => setTimeout(resolve, 20))
          })(),
        })
        const chunks: StreamChunk[] = []
        for await (const chunk of ownRouter.stream({
          model: 'served-model',
          messages: [{ role: 'user', content: 'Hi' }],
        })) {
          chunks.push(chunk)
        }
        expect(chunks.at(-1)?.type).toBe('finish')
        // The end of the body comes 20 ms after the answer and is drained in the background; the
        // next stream then finds the connection free again.
        await new Promise((resolve) => setTimeout(resolve, 60))
      }
      expect(own.clientCloses).toBe(0)
      expect(connections).toBe(1)
    } finally {
      await ownRouter.close()
      await own.close()
    }
  })
})
