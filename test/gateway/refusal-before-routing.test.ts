/**
 * Regression: refusals written before any route matched reached the gateway's clients in our own
 * shape, `{"error":{...}}`, even where the path says which dialect the client speaks: a method the
 * route does not take (`GET /v1/messages`, CONTINUUM_METHOD_NOT_ALLOWED) and a path refused before
 * routing (`/v1/messages/`, `/v1//messages`, `/v1/%6Dessages`, CONTINUUM_INVALID_PATH). An
 * Anthropic client could not read them as Anthropic's errors. They now come in the dialect of the
 * adapter whose routes the path names (its gateway codec), with the same status, code and `allow`
 * header; OpenAI's paths in OpenAI's shape, and a plain proxy (no router) keeps ours. Real
 * Express, Koa and Fastify sockets, raw HTTP and the official Anthropic SDK; no provider is called.
 */
import Anthropic from '@anthropic-ai/sdk'
import type { InferenceRouter } from 'continuum-proxy/router'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningApp, rootFrameworks } from '../conformance/frameworks'
import { anthropicClient, type Fakes, fakeRouter, gatewayKeys, startFakes } from './support'

const SECRET = 'the vault combination is 31-41-59'
const body = JSON.stringify({ model: 'llama', max_tokens: 16, messages: [{ role: 'user', content: SECRET }] })

async function call(
  url: string,
  method: string,
  path: string,
): Promise<{ status: number; headers: Headers; json: Record<string, unknown>; text: string }> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    ...(method === 'GET' ? {} : { body }),
  })
  const text = await response.text()
  return { status: response.status, headers: response.headers, json: JSON.parse(text), text }
}

function anthropicShape(code: string): Record<string, unknown> {
  return {
    type: 'error',
    error: expect.objectContaining({ type: expect.any(String), code, message: expect.any(String) }),
  }
}

describe.each(rootFrameworks)('refusals before routing, in the dialect the path names ($name)', (harness) => {
  let fakes: Fakes
  let router: InferenceRouter
  let gateway: RunningApp
  let proxy: RunningApp

  const providerCalls = () => fakes.vllm.requests.length + fakes.anthropic.requests.length

  beforeAll(async () => {
    fakes = await startFakes()
    router = fakeRouter(fakes)
    gateway = await harness.start({ router })
    proxy = await harness.start({ upstream: fakes.vllm.url, keys: gatewayKeys() })
  })

  afterAll(async () => {
    await gateway.close()
    await proxy.close()
    await router.close()
    await fakes.close()
  })

  it.each([
    ['GET /v1/messages', 'GET', '/v1/messages', 405, 'CONTINUUM_METHOD_NOT_ALLOWED'],
    [
      'PUT /v1/messages/count_tokens',
      'PUT',
      '/v1/messages/count_tokens',
      405,
      'CONTINUUM_METHOD_NOT_ALLOWED',
    ],
    ['a trailing slash', 'POST', '/v1/messages/', 400, 'CONTINUUM_INVALID_PATH'],
    ['an empty segment', 'POST', '/v1//messages', 400, 'CONTINUUM_INVALID_PATH'],
    ['an encoded letter', 'POST', '/v1/%6Dessages', 400, 'CONTINUUM_INVALID_PATH'],
    ['a dot segment with a path parameter', 'POST', '/v1/x/..;/messages', 400, 'CONTINUUM_INVALID_PATH'],
  ])("%s is written in Anthropic's shape", async (_name, method, path, status, code) => {
    const before = providerCalls()
    const answer = await call(gateway.url, method, path)
    expect(answer.status).toBe(status)
    expect(answer.json).toEqual(anthropicShape(code))
    expect(answer.headers.get('x-continuum-encrypted')).toBe('0')
    if (status === 405) expect(answer.headers.get('allow')).toBe('POST')
    expect(answer.text).not.toContain('vault')
    expect(providerCalls()).toBe(before)
  })

  it('the official SDK reads the refusal as an Anthropic error with our code', async () => {
    const failure = await anthropicClient(gateway.url, false)
      .get('/v1/messages')
      .catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(Anthropic.APIError)
    const apiError = failure as InstanceType<typeof Anthropic.APIError>
    expect(apiError.status).toBe(405)
    expect(apiError.error).toEqual(anthropicShape('CONTINUUM_METHOD_NOT_ALLOWED'))
  })

  it.each([
    ['GET /v1/chat/completions', 'GET', '/v1/chat/completions', 405, 'CONTINUUM_METHOD_NOT_ALLOWED'],
    ['a trailing slash', 'POST', '/v1/chat/completions/', 400, 'CONTINUUM_INVALID_PATH'],
  ])("%s on OpenAI's path is written in OpenAI's shape", async (_name, method, path, status, code) => {
    const answer = await call(gateway.url, method, path)
    expect(answer.status).toBe(status)
    expect(answer.json).not.toHaveProperty('type')
    expect(answer.json.error).toMatchObject({ code, type: 'invalid_request_error', param: null })
  })

  it.each([
    ['GET /v1/messages', 'GET', '/v1/messages', 405, 'CONTINUUM_METHOD_NOT_ALLOWED'],
    ['a trailing slash', 'POST', '/v1/messages/', 400, 'CONTINUUM_INVALID_PATH'],
  ])('a plain proxy keeps our shape for %s', async (_name, method, path, status, code) => {
    const answer = await call(proxy.url, method, path)
    expect(answer.status).toBe(status)
    expect(answer.json).not.toHaveProperty('type')
    expect(answer.json.error).toMatchObject({ code })
  })
})
