/**
 * `POST /v1/messages/count_tokens` through the gateway with the official Anthropic SDK, on a real
 * Express socket, plain and encrypted: an Anthropic provider counts (the body forwarded as sent,
 * only the model mapped); a model served only by providers that cannot count is refused with
 * CONTINUUM_NOT_SUPPORTED naming them, never answered with an estimate.
 */
import { createEncryptedFetch } from 'continuum-proxy/client'
import { anthropic, openai } from 'continuum-proxy/providers'
import { InferenceRouter } from 'continuum-proxy/router'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningApp, rootFrameworks } from '../conformance/frameworks'
import { recordingFetch } from '../conformance/support'
import { startAnthropicServer } from '../kit/anthropic'
import { startOpenAIDialectServer } from '../kit/openai-dialects'
import { jsonReply } from '../kit/replies'
import type { FakeUpstream } from '../kit/server'
import { ANTHROPIC_KEY, anthropicClient, CLAUDE_MODEL, gatewayKeys, KEY, KEY_ID } from './support'

const SECRET = 'count these secret words'
const express = rootFrameworks.find((harness) => harness.name === 'express')!

describe.each([false, true])('count_tokens through the gateway (encrypted: %s)', (encrypted) => {
  let anthropicFake: FakeUpstream
  let dialect: FakeUpstream
  let router: InferenceRouter
  let app: RunningApp

  beforeAll(async () => {
    ;[anthropicFake, dialect] = await Promise.all([
      startAnthropicServer(ANTHROPIC_KEY),
      startOpenAIDialectServer(),
    ])
    router = new InferenceRouter({
      providers: [
        anthropic({
          id: 'claude',
          apiKey: ANTHROPIC_KEY,
          baseURL: anthropicFake.url,
          models: [CLAUDE_MODEL],
        }),
        openai({ id: 'openai', apiKey: 'sk-up', baseURL: `${dialect.url}/v1`, models: ['gpt-4o-mini'] }),
      ],
      aliases: { claude: { claude: CLAUDE_MODEL } },
      retry: { maxRetries: 0 },
    })
    app = await express.start({ router, ...(encrypted ? { keys: gatewayKeys() } : {}) })
  })

  afterAll(async () => {
    await app.close()
    await router.close()
    await Promise.all([anthropicFake.close(), dialect.close()])
  })

  function client(wire: ReturnType<typeof recordingFetch>) {
    return anthropicClient(
      app.url,
      false,
      encrypted ? createEncryptedFetch({ keyId: KEY_ID, key: KEY, fetch: wire.fetch }) : wire.fetch,
    )
  }

  it('is counted by the Anthropic provider, the body forwarded with only the model mapped', async () => {
    const wire = recordingFetch()
    anthropicFake.queue(jsonReply({ input_tokens: 42 }))
    const request = {
      model: 'claude',
      system: [{ type: 'text' as const, text: 'Be brief.', cache_control: { type: 'ephemeral' as const } }],
      messages: [{ role: 'user' as const, content: SECRET }],
      tools: [{ name: 'get_weather', input_schema: { type: 'object' as const, properties: {} } }],
    }
    const counted = await client(wire).messages.countTokens(request)
    expect(counted.input_tokens).toBe(42)
    const sent = anthropicFake.requests.at(-1)!
    expect(sent.url).toBe('/v1/messages/count_tokens')
    expect(sent.json()).toEqual({ ...request, model: CLAUDE_MODEL })
    await wire.settled()
    if (encrypted) expect(wire.bodies.join('')).not.toContain(SECRET)
  })

  it('is refused, naming the provider, for a model only providers that cannot count serve', async () => {
    const before = dialect.requests.length
    const failure = await client(recordingFetch())
      .messages.countTokens({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: SECRET }] })
      .then(
        () => undefined,
        (error: { status?: number; error?: { error?: { code?: string; message?: string } } }) => error,
      )
    expect(failure?.status).toBe(400)
    expect(failure?.error?.error).toMatchObject({ code: 'CONTINUUM_NOT_SUPPORTED' })
    expect(failure?.error?.error?.message).toContain('openai cannot count tokens')
    expect(JSON.stringify(failure?.error)).not.toContain(SECRET)
    expect(dialect.requests.length).toBe(before)
  })

  it('is a 404 for a model no provider serves', async () => {
    const failure = await client(recordingFetch())
      .messages.countTokens({ model: 'nobody', messages: [{ role: 'user', content: 'hi' }] })
      .then(
        () => undefined,
        (error: { status?: number }) => error,
      )
    expect(failure?.status).toBe(404)
  })
})
