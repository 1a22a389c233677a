/**
 * Regression: the gateway's Anthropic clients get every error in Anthropic's shape,
 * `{"type":"error","error":{type, message, code}}`, not only the router's. The refusals of the
 * shared pipeline (a body that is not JSON, too large or of another media type, a schema
 * violation, a stage's refusal, and the same sealed for an encrypted client) came back as
 * `{"error":{...}}`, which an Anthropic client does not read as Anthropic's error. Driven on a real
 * Express socket with raw HTTP, the official Anthropic SDK (plain and encrypting), and the OpenAI
 * SDK on the same gateway, which keeps OpenAI's shape.
 */
import Anthropic from '@anthropic-ai/sdk'
import { ContinuumError, type ProxyStage } from 'continuum-proxy'
import type { InferenceRouter } from 'continuum-proxy/router'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningApp, rootFrameworks } from '../conformance/frameworks'
import { anthropicClient, type Fakes, fakeRouter, gatewayKeys, openaiClient, startFakes } from './support'

const express = rootFrameworks.find((harness) => harness.name === 'express')!
const SECRET = 'the vault combination is 31-41-59'

/** A stage that refuses requests marked `x-test-limit`, as a rate limiter would. */
const limiter: ProxyStage = {
  name: 'test-limiter',
  async wrapAccepted(exchange, next) {
    if (exchange.request.headers['x-test-limit'] === undefined) return next()
    throw new ContinuumError('CONTINUUM_RATE_LIMITED', 'Local limit reached', { retryAfterSeconds: 3 })
  },
}

const valid = { model: 'llama', max_tokens: 16, messages: [{ role: 'user', content: SECRET }] }

/** Posts a body to the Anthropic route as raw bytes and reads the answer. */
async function post(
  url: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; json: Record<string, unknown>; text: string }> {
  const response = await fetch(`${url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...headers },
    body,
  })
  const text = await response.text()
  return { status: response.status, headers: response.headers, json: JSON.parse(text), text }
}

/** Anthropic's error body with our code in it. */
function anthropicShape(type: string, code: string): Record<string, unknown> {
  return { type: 'error', error: expect.objectContaining({ type, code, message: expect.any(String) }) }
}

describe("the pipeline's refusals reach Anthropic clients of the gateway in Anthropic's shape", () => {
  let fakes: Fakes
  let router: InferenceRouter
  let plain: RunningApp
  let encrypted: RunningApp

  beforeAll(async () => {
    fakes = await startFakes()
    router = fakeRouter(fakes)
    plain = await express.start({ router, bodyLimit: 4096, stages: [limiter] })
    encrypted = await express.start({ router, keys: gatewayKeys() })
  })

  afterAll(async () => {
    await plain.close()
    await encrypted.close()
    await router.close()
    await fakes.close()
  })

  it.each([
    ['a body that is not JSON', `{"model":"llama","messages":[${SECRET}`, {}, 400, 'CONTINUUM_INVALID_JSON'],
    [
      'a schema violation',
      JSON.stringify({ ...valid, messages: SECRET }),
      {},
      400,
      'CONTINUUM_SCHEMA_VIOLATION',
    ],
    [
      'a body over the limit',
      JSON.stringify({ ...valid, system: SECRET.repeat(200) }),
      {},
      413,
      'CONTINUUM_BODY_TOO_LARGE',
    ],
    [
      'another media type',
      JSON.stringify(valid),
      { 'content-type': 'text/plain' },
      415,
      'CONTINUUM_UNSUPPORTED_MEDIA_TYPE',
    ],
  ])('%s', async (_name, body, headers, status, code) => {
    const before = fakes.vllm.requests.length
    const answer = await post(plain.url, body, headers)
    expect(answer.status).toBe(status)
    expect(answer.json).toEqual(anthropicShape('invalid_request_error', code))
    expect(answer.headers.get('x-continuum-encrypted')).toBe('0')
    expect(answer.text).not.toContain('vault')
    expect(fakes.vllm.requests.length).toBe(before)
  })

  it("a stage's refusal keeps its status, type and retry-after", async () => {
    const answer = await post(plain.url, JSON.stringify(valid), { 'x-test-limit': '1' })
    expect(answer.status).toBe(429)
    expect(answer.headers.get('retry-after')).toBe('3')
    expect(answer.json).toEqual(anthropicShape('rate_limit_error', 'CONTINUUM_RATE_LIMITED'))
  })

  it('the official SDK reads a schema violation as Anthropic error, with the path', async () => {
    const failure = await anthropicClient(plain.url, false)
      .messages.create({
        ...valid,
        temperature: 'hot',
      } as unknown as Anthropic.MessageCreateParamsNonStreaming)
      .catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(Anthropic.BadRequestError)
    const apiError = failure as InstanceType<typeof Anthropic.APIError>
    expect(apiError.type).toBe('invalid_request_error')
    expect(apiError.error).toEqual({
      type: 'error',
      error: expect.objectContaining({ code: 'CONTINUUM_SCHEMA_VIOLATION', path: '/temperature' }),
    })
  })

  it('an encrypted client gets the sealed refusal in the same shape, and verifies it', async () => {
    const before = fakes.vllm.requests.length
    const failure = await anthropicClient(encrypted.url, true)
      .messages.create({
        ...valid,
        temperature: 'hot',
      } as unknown as Anthropic.MessageCreateParamsNonStreaming)
      .catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(Anthropic.BadRequestError)
    expect((failure as InstanceType<typeof Anthropic.APIError>).error).toEqual(
      anthropicShape('invalid_request_error', 'CONTINUUM_SCHEMA_VIOLATION'),
    )
    expect(fakes.vllm.requests.length).toBe(before)
  })

  it("an OpenAI client of the same gateway keeps OpenAI's shape", async () => {
    const failure = await openaiClient(plain.url, false)
      .chat.completions.create({
        model: 'claude',
        messages: [{ role: 'user', content: SECRET }],
        temperature: 'hot',
      } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming)
      .catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(OpenAI.BadRequestError)
    expect(failure).toMatchObject({ status: 400, code: 'CONTINUUM_SCHEMA_VIOLATION' })
    const response = await fetch(`${plain.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude', messages: SECRET }),
    })
    const body = (await response.json()) as Record<string, unknown>
    expect(response.status).toBe(400)
    expect(body).not.toHaveProperty('type')
    expect(body.error).toMatchObject({ code: 'CONTINUUM_SCHEMA_VIOLATION', type: 'invalid_request_error' })
  })
})
