/**
 * Failover and failure through the gateway, with the official SDKs: a provider failing before its
 * first chunk is replaced by the next one without the client noticing; a provider failing after it
 * ends the stream with the dialect's error event, so the SDK raises instead of returning a short
 * answer; every provider failing gives the dialect's error body with 503 and our code.
 */
import Anthropic from '@anthropic-ai/sdk'
import { ContinuumError, type ExchangeOutcome, type ProxyStage } from 'continuum-proxy'
import { vllm } from 'continuum-proxy/providers'
import { InferenceRouter } from 'continuum-proxy/router'
import OpenAI from 'openai'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { frameworks, type RunningApp } from '../conformance/frameworks'
import { openaiDialect, openaiErrorReply, startOpenAIServer } from '../kit/openai'
import { transcriptUntil } from '../kit/replies'
import type { FakeUpstream, Reply } from '../kit/server'
import { anthropicClient, drain, gatewayKeys, LLAMA_MODEL, openaiClient } from './support'

const SSE_HEADERS = { 'content-type': 'text/event-stream' }

/** The vLLM stream cut after its first word, the connection destroyed. */
function cutStream(): Reply {
  return {
    kind: 'chunks',
    headers: SSE_HEADERS,
    chunks: transcriptUntil('vllm', 'chat-stream-text.sse', ' scattering.'),
    ending: 'destroy',
  }
}

const cases = frameworks
  .filter((harness) => harness.name === 'express' || harness.name === 'fastify /llm')
  .flatMap((harness) => [
    { harness, name: harness.name, encrypted: true },
    { harness, name: harness.name, encrypted: false },
  ])

describe.each(cases)('gateway failover via $name (encrypted: $encrypted)', ({ harness, encrypted }) => {
  let primary: FakeUpstream
  let secondary: FakeUpstream
  let router: InferenceRouter
  let app: RunningApp
  // Every exchange's outcome as the stages (audit, telemetry) see it.
  const outcomes: ExchangeOutcome[] = []
  const probe: ProxyStage = {
    name: 'probe',
    wrapExchange: (exchange, next) => {
      exchange.onEnd((outcome) => outcomes.push(outcome))
      return next()
    },
  }

  beforeAll(async () => {
    ;[primary, secondary] = await Promise.all([
      startOpenAIServer(openaiDialect(undefined), 'vllm'),
      startOpenAIServer(openaiDialect(undefined), 'vllm'),
    ])
    router = new InferenceRouter({
      providers: [
        vllm({ id: 'primary', endpoints: [primary.url], models: [LLAMA_MODEL] }),
        vllm({ id: 'secondary', endpoints: [secondary.url], models: [LLAMA_MODEL] }),
      ],
      aliases: { llama: { primary: LLAMA_MODEL, secondary: LLAMA_MODEL } },
      policy: { type: 'fallback_chain', chain: ['primary', 'secondary'] },
      retry: { maxRetries: 0 },
      // One failure must not open a breaker and change the next test's plan.
      breaker: { failureThreshold: 1000, minimumRequests: 1000 },
    })
    app = await harness.start({ router, stages: [probe], ...(encrypted ? { keys: gatewayKeys() } : {}) })
  })

  afterAll(async () => {
    await app.close()
    await router.close()
    await Promise.all([primary.close(), secondary.close()])
  })

  beforeEach(() => {
    primary.requests.length = 0
    secondary.requests.length = 0
  })

  it('answers from the second provider when the first fails before its first chunk', async () => {
    const openai = openaiClient(app.url, encrypted)
    primary.queue(openaiErrorReply(503), openaiErrorReply(500))
    const stream = await openai.chat.completions.create({
      model: 'llama',
      stream: true,
      messages: [{ role: 'user', content: 'why is the sky blue?' }],
    })
    let text = ''
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
    expect(text).toBe('Rayleigh scattering.')
    const answer = await openai.chat.completions.create({
      model: 'llama',
      messages: [{ role: 'user', content: 'why is the sky blue?' }],
    })
    expect(answer.choices[0]?.message.content).toContain('scatters short wavelengths')
    expect([primary.requests.length, secondary.requests.length]).toEqual([2, 2])

    primary.queue(openaiErrorReply(503))
    const message = await anthropicClient(app.url, encrypted)
      .messages.stream({ model: 'llama', max_tokens: 32, messages: [{ role: 'user', content: 'why?' }] })
      .finalMessage()
    expect(message.content).toEqual([{ type: 'text', text: 'Rayleigh scattering.' }])
  })

  it('makes the OpenAI SDK raise when the provider fails mid-stream', async () => {
    primary.queue(cutStream())
    const stream = await openaiClient(app.url, encrypted).chat.completions.create({
      model: 'llama',
      stream: true,
      messages: [{ role: 'user', content: 'why is the sky blue?' }],
    })
    let text = ''
    const failure = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
    })().catch((error: unknown) => error)
    expect(text).toBe('Rayleigh')
    // Plain: the SDK reads OpenAI's in-stream error event. Encrypted: the client verifies the sealed
    // failure marker and raises the error it names, as itself.
    expect(encrypted ? ContinuumError.isInstance(failure) : failure instanceof OpenAI.APIError).toBe(true)
    expect(failure).toMatchObject({ code: 'CONTINUUM_STREAM_INTERRUPTED' })
    // Stages see the cut too, not a clean 200.
    await vi.waitFor(() =>
      expect(outcomes.at(-1)).toMatchObject({ status: 200, errorCode: 'CONTINUUM_STREAM_INTERRUPTED' }),
    )
    // Committed to the first provider: no second attempt after a chunk went out.
    expect(secondary.requests).toHaveLength(0)
    if (encrypted) return
    primary.queue(cutStream())
    const raw = await fetch(`${app.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'llama', stream: true, messages: [{ role: 'user', content: 'x' }] }),
    })
    const wire = await raw.text()
    expect(wire).toMatch(/data: \{"error":\{.*"code":"CONTINUUM_STREAM_INTERRUPTED"\}\}\n\n$/)
    expect(wire).not.toContain('[DONE]')
  })

  it('makes the Anthropic SDK raise when the provider fails mid-stream', async () => {
    primary.queue(cutStream())
    const anthropic = anthropicClient(app.url, encrypted)
    const stream = anthropic.messages.stream({
      model: 'llama',
      max_tokens: 32,
      messages: [{ role: 'user', content: 'why?' }],
    })
    const failure = await stream.finalMessage().catch((error: unknown) => error)
    if (encrypted) {
      // The SDK's MessageStream wraps what the fetch body threw; the client's error is its cause.
      expect(failure).toBeInstanceOf(Anthropic.AnthropicError)
      const cause = (failure as Error).cause
      expect(ContinuumError.isInstance(cause) && cause.code).toBe('CONTINUUM_STREAM_INTERRUPTED')
    } else {
      expect(failure).toBeInstanceOf(Anthropic.APIError)
      expect((failure as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({
        type: 'error',
        error: { type: 'api_error', code: 'CONTINUUM_STREAM_INTERRUPTED' },
      })
    }

    primary.queue(cutStream())
    const raw = await anthropic.messages.create({
      model: 'llama',
      max_tokens: 32,
      stream: true,
      messages: [{ role: 'user', content: 'why?' }],
    })
    const rawFailure = await drain(raw).catch((error: unknown) => error)
    if (encrypted) expect(rawFailure).toMatchObject({ code: 'CONTINUUM_STREAM_INTERRUPTED' })
    else expect(rawFailure).toBeInstanceOf(Anthropic.APIError)
    await vi.waitFor(() =>
      expect(outcomes.at(-1)).toMatchObject({ status: 200, errorCode: 'CONTINUUM_STREAM_INTERRUPTED' }),
    )
  })

  it('answers 503 with the attempts in both dialects when every provider fails', async () => {
    primary.queue(openaiErrorReply(500))
    secondary.queue(openaiErrorReply(503))
    const openaiFailure = await openaiClient(app.url, encrypted)
      .chat.completions.create({ model: 'llama', messages: [{ role: 'user', content: 'x' }] })
      .catch((error: unknown) => error)
    expect(openaiFailure).toBeInstanceOf(OpenAI.InternalServerError)
    expect(openaiFailure).toMatchObject({ status: 503, code: 'CONTINUUM_NO_PROVIDER_AVAILABLE' })
    expect((openaiFailure as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({
      attempts: [
        { provider: 'primary', code: 'CONTINUUM_PROVIDER_ERROR' },
        { provider: 'secondary', code: 'CONTINUUM_PROVIDER_ERROR' },
      ],
    })

    primary.queue(openaiErrorReply(500))
    secondary.queue(openaiErrorReply(503))
    const anthropicFailure = await anthropicClient(app.url, encrypted)
      .messages.create({
        model: 'llama',
        max_tokens: 8,
        stream: true,
        messages: [{ role: 'user', content: 'x' }],
      })
      .catch((error: unknown) => error)
    expect(anthropicFailure).toMatchObject({ status: 503 })
    expect((anthropicFailure as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({
      type: 'error',
      error: { type: 'overloaded_error', code: 'CONTINUUM_NO_PROVIDER_AVAILABLE' },
    })
  })

  it('carries the shortest Retry-After when every provider is rate limited', async () => {
    primary.queue(openaiErrorReply(429, { 'retry-after': '7' }))
    secondary.queue(openaiErrorReply(429, { 'retry-after': '3' }))
    const failure = await openaiClient(app.url, encrypted)
      .chat.completions.create({ model: 'llama', messages: [{ role: 'user', content: 'x' }] })
      .catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(OpenAI.APIError)
    const apiError = failure as InstanceType<typeof OpenAI.APIError>
    expect(apiError).toMatchObject({ status: 503, code: 'CONTINUUM_NO_PROVIDER_AVAILABLE' })
    expect(apiError.headers?.get('retry-after')).toBe('3')
  })
})
