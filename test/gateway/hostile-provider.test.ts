/**
 * A provider that breaks its protocol on purpose, through the gateway on a real Express socket,
 * with the official OpenAI SDK on the other dialect: the client gets 502
 * CONTINUUM_UPSTREAM_PROTOCOL_ERROR in its own error shape, and the router does not retry an
 * answer that would break the same way again.
 */
import { anthropic } from 'continuum-proxy/providers'
import { InferenceRouter } from 'continuum-proxy/router'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningApp, rootFrameworks } from '../conformance/frameworks'
import { jsonReply } from '../kit/replies'
import { FakeUpstream } from '../kit/server'
import { openaiClient } from './support'

const express = rootFrameworks.find((harness) => harness.name === 'express')!

describe('a provider that breaks its protocol', () => {
  let fake: FakeUpstream
  let router: InferenceRouter
  let app: RunningApp

  beforeAll(async () => {
    fake = await FakeUpstream.start(() => jsonReply({ type: 'error', error: { type: 'api_error' } }, 500))
    router = new InferenceRouter({
      providers: [anthropic({ id: 'claude', apiKey: 'sk-ant', baseURL: fake.url, models: ['claude-x'] })],
      retry: { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 1 },
      breaker: { failureThreshold: 1000, minimumRequests: 1000 },
    })
    app = await express.start({ router })
  })

  afterAll(async () => {
    await app.close()
    await router.close()
    await fake.close()
  })

  it('answers a tool_use input nested too deep to write back with a protocol error, once', async () => {
    // 400 KB, well within the response limit; JSON.parse takes it, JSON.stringify runs out of stack.
    const depth = 100_000
    const input = `{"deep":${'['.repeat(depth)}${']'.repeat(depth)}}`
    const body = `{"id":"msg_deep","type":"message","role":"assistant","model":"claude-x","content":[{"type":"tool_use","id":"toolu_1","name":"lookup","input":${input}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":1}}`
    const reply = { kind: 'body' as const, headers: { 'content-type': 'application/json' }, body }
    fake.queue(reply, reply, reply)
    const failure = await openaiClient(app.url, false)
      .chat.completions.create({ model: 'claude-x', messages: [{ role: 'user', content: 'Look it up' }] })
      .catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(OpenAI.InternalServerError)
    expect(failure).toMatchObject({ status: 502, code: 'CONTINUUM_UPSTREAM_PROTOCOL_ERROR' })
    expect(fake.requests).toHaveLength(1)
  })
})
