/**
 * A provider that breaks its protocol on purpose, through the gateway on a real Express socket,
 * with the official OpenAI SDK on the other dialect: the client gets 502
 * CONTINUUM_UPSTREAM_PROTOCOL_ERROR in its own error shape, and the router does not retry an
 * answer that would break the same way again. The case: tool call arguments nested 100,000 deep
 * (400 KB, well within the response limit), which JSON.parse reads and JSON.stringify cannot
 * write back, in the wire shape of each provider that carries arguments as an object.
 */
import { InferenceRouter } from 'continuum-proxy/router'
import OpenAI from 'openai'
import { afterEach, describe, expect, it } from 'vitest'
import { rootFrameworks } from '../conformance/frameworks'
import { jsonReply } from '../kit/replies'
import { FakeUpstream } from '../kit/server'
import { openaiClient, providerAt, SERVED_MODEL } from './support'

const express = rootFrameworks.find((harness) => harness.name === 'express')!
const DEPTH = 100_000
const DEEP = `{"deep":${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}}`
const MODEL = SERVED_MODEL

/** Each provider, and its answer with a tool call whose arguments are {@link DEEP}. */
const CASES = [
  {
    name: 'anthropic',
    provider: providerAt.anthropic,
    body: `{"id":"msg_deep","type":"message","role":"assistant","model":"${MODEL}","content":[{"type":"tool_use","id":"toolu_1","name":"lookup","input":${DEEP}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":1}}`,
  },
  {
    name: 'ollama',
    provider: providerAt.ollama,
    body: `{"model":"${MODEL}","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"lookup","arguments":${DEEP}}}]},"done":true,"done_reason":"stop","prompt_eval_count":1,"eval_count":1}`,
  },
  {
    name: 'tgi',
    provider: providerAt.tgi,
    body: `{"id":"","object":"chat.completion","created":1,"model":"${MODEL}","system_fingerprint":"3.0.0","choices":[{"index":0,"message":{"role":"assistant","tool_calls":[{"id":"0","type":"function","function":{"name":"lookup","arguments":${DEEP}}}]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`,
  },
  {
    name: 'vertex',
    provider: providerAt.vertex,
    body: `{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"lookup","args":${DEEP}}}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":1,"candidatesTokenCount":1,"totalTokenCount":2},"modelVersion":"${MODEL}"}`,
  },
]

describe('a provider that breaks its protocol', () => {
  const opened: { close(): Promise<unknown> }[] = []
  afterEach(async () => {
    for (const item of opened.splice(0).reverse()) await item.close()
  })

  it.each(CASES)(
    'answers $name tool call arguments nested too deep to write back with a protocol error, once',
    async (item) => {
      const fake = await FakeUpstream.start(() => jsonReply({ error: 'unexpected request' }, 500))
      opened.push(fake)
      const router = new InferenceRouter({
        providers: [item.provider(fake.url)],
        retry: { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 1 },
        breaker: { failureThreshold: 1000, minimumRequests: 1000 },
      })
      opened.push(router)
      const app = await express.start({ router })
      opened.push(app)
      const reply = {
        kind: 'body' as const,
        headers: { 'content-type': 'application/json' },
        body: item.body,
      }
      fake.queue(reply, reply, reply)
      const failure = await openaiClient(app.url, false)
        .chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Look it up' }] })
        .catch((error: unknown) => error)
      expect(failure).toBeInstanceOf(OpenAI.InternalServerError)
      expect(failure).toMatchObject({ status: 502, code: 'CONTINUUM_UPSTREAM_PROTOCOL_ERROR' })
      expect(fake.requests).toHaveLength(1)
    },
  )
})
