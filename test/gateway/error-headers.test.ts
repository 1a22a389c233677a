/**
 * Regression: the router gateway's own error answers (no provider serves the model, a provider's
 * error, a provider's rate limit, a stream failing before its first chunk, an unknown model on the
 * model route) went out without the headers the pipeline puts on every error it writes:
 * `x-continuum-encrypted: 0` and `cache-control: no-store`, so a shared cache could keep one and
 * answer other callers with it, and an encrypted client got them sealed as answers rather than as
 * the server's errors. They are written as the pipeline's refusals now: plain, never cached, and
 * sealed as errors for an encrypted client, which verifies them. Driven with the official OpenAI
 * and Anthropic SDKs, plain and encrypting, on a real Express socket; the wire headers are read
 * from a recording fetch under the SDKs.
 */
import Anthropic from '@anthropic-ai/sdk'
import type { InferenceRouter } from 'continuum-proxy/router'
import OpenAI from 'openai'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type RunningApp, rootFrameworks } from '../conformance/frameworks'
import { openaiErrorReply } from '../kit/openai'
import { anthropicClient, type Fakes, fakeRouter, gatewayKeys, openaiClient, startFakes } from './support'

const express = rootFrameworks.find((harness) => harness.name === 'express')!

/** How each failure is provoked on the vLLM fake, and what the client should get. */
interface Failure {
  name: string
  model: string
  stream: boolean
  arrange(fakes: Fakes): void
  status: number
  code: string
  retryAfter?: string
}

const FAILURES: Failure[] = [
  {
    name: 'no provider serves the model',
    model: 'nobody',
    stream: false,
    arrange: () => {},
    status: 404,
    code: 'CONTINUUM_MODEL_NOT_FOUND',
  },
  {
    name: 'a provider error',
    model: 'llama',
    stream: false,
    arrange: (fakes) => fakes.vllm.queue(openaiErrorReply(500)),
    status: 502,
    code: 'CONTINUUM_PROVIDER_ERROR',
  },
  {
    name: 'a provider rate limit',
    model: 'llama',
    stream: false,
    arrange: (fakes) => fakes.vllm.queue(openaiErrorReply(429, { 'retry-after': '7' })),
    status: 429,
    code: 'CONTINUUM_PROVIDER_RATE_LIMITED',
    retryAfter: '7',
  },
  {
    name: 'a stream failing before its first chunk',
    model: 'llama',
    stream: true,
    arrange: (fakes) => fakes.vllm.queue(openaiErrorReply(503)),
    status: 502,
    code: 'CONTINUUM_PROVIDER_ERROR',
  },
]

const MODES = [
  { mode: 'plain', encrypted: false },
  { mode: 'encrypted', encrypted: true },
]

describe.each(MODES)("the gateway's own errors carry the error headers ($mode)", ({ encrypted }) => {
  let fakes: Fakes
  let router: InferenceRouter
  let app: RunningApp
  /** Headers of every answer the SDKs' fetch received, as they were on the wire. */
  const wire: Headers[] = []
  const recording: typeof fetch = async (input, init) => {
    const response = await fetch(input, init)
    wire.push(response.headers)
    return response
  }

  beforeAll(async () => {
    fakes = await startFakes()
    // One failure must not open a breaker and change the next test's answer.
    router = fakeRouter(fakes, { breaker: { failureThreshold: 1000, minimumRequests: 1000 } })
    app = await express.start({ router, ...(encrypted ? { keys: gatewayKeys() } : {}) })
  })

  afterAll(async () => {
    await app.close()
    await router.close()
    await fakes.close()
  })

  beforeEach(() => {
    wire.length = 0
  })

  function expectErrorHeaders(retryAfter?: string): void {
    expect(wire).toHaveLength(1)
    const headers = wire[0]!
    expect(headers.get('x-continuum-encrypted')).toBe('0')
    expect(headers.get('cache-control')).toBe('no-store')
    expect(headers.get('content-type')).toMatch(/^application\/json/)
    // An encrypted client's error is sealed as the server's own, and verified before the SDK sees it.
    expect(headers.has('x-continuum-seal')).toBe(encrypted)
    if (retryAfter !== undefined) expect(headers.get('retry-after')).toBe(retryAfter)
  }

  describe.each(FAILURES)('$name', (failure) => {
    it('to the OpenAI SDK', async () => {
      failure.arrange(fakes)
      const caught = await openaiClient(app.url, encrypted, recording)
        .chat.completions.create({
          model: failure.model,
          stream: failure.stream,
          messages: [{ role: 'user', content: 'Hi' }],
        })
        .catch((error: unknown) => error)
      expect(caught).toBeInstanceOf(OpenAI.APIError)
      expect(caught).toMatchObject({ status: failure.status, code: failure.code })
      expectErrorHeaders(failure.retryAfter)
    })

    it('to the Anthropic SDK', async () => {
      failure.arrange(fakes)
      const caught = await anthropicClient(app.url, encrypted, recording)
        .messages.create({
          model: failure.model,
          max_tokens: 16,
          stream: failure.stream,
          messages: [{ role: 'user', content: 'Hi' }],
        })
        .catch((error: unknown) => error)
      expect(caught).toBeInstanceOf(Anthropic.APIError)
      expect(caught).toMatchObject({ status: failure.status })
      expect((caught as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({
        type: 'error',
        error: { code: failure.code },
      })
      expectErrorHeaders(failure.retryAfter)
    })
  })

  it('an unknown model on the model route, to the OpenAI SDK', async () => {
    const caught = await openaiClient(app.url, encrypted, recording)
      .models.retrieve('nobody')
      .catch((error: unknown) => error)
    expect(caught).toBeInstanceOf(OpenAI.NotFoundError)
    expect(caught).toMatchObject({ code: 'CONTINUUM_MODEL_NOT_FOUND' })
    expect(wire[0]?.get('x-continuum-encrypted')).toBe('0')
    expect(wire[0]?.get('cache-control')).toBe('no-store')
  })

  it('an unknown model on the model route, to the Anthropic SDK', async () => {
    const caught = await anthropicClient(app.url, encrypted, recording)
      .models.retrieve('nobody')
      .catch((error: unknown) => error)
    expect(caught).toBeInstanceOf(Anthropic.NotFoundError)
    expect((caught as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({
      type: 'error',
      error: { code: 'CONTINUUM_MODEL_NOT_FOUND' },
    })
    expect(wire[0]?.get('x-continuum-encrypted')).toBe('0')
    expect(wire[0]?.get('cache-control')).toBe('no-store')
  })

  it('a success keeps its own headers', async () => {
    const answer = await openaiClient(app.url, encrypted, recording).chat.completions.create({
      model: 'llama',
      messages: [{ role: 'user', content: 'Hi' }],
    })
    expect(answer.choices[0]?.message).toBeDefined()
    expect(wire[0]?.get('cache-control')).not.toBe('no-store')
    expect(wire[0]?.get('x-continuum-encrypted')).toBe(encrypted ? '1' : null)
  })
})
