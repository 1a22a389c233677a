import { ContinuumError } from 'continuum-proxy'
import {
  parseRetryAfter,
  providerErrorFromNetwork,
  providerErrorFromResponse,
} from 'continuum-proxy/provider-kit'
import { Agent, fetch as undiciFetch } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closedPort, FakeUpstream } from '../kit/server'

// One fake for the file; each test queues the answer it needs.
let fake: FakeUpstream
beforeAll(async () => {
  fake = await FakeUpstream.start(() => ({ kind: 'hang' }))
})
afterAll(async () => {
  await fake.close()
})

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a failure')
}

describe('providerErrorFromResponse over real HTTP answers', () => {
  it('maps a 429 with Retry-After to CONTINUUM_PROVIDER_RATE_LIMITED', async () => {
    fake.queue({
      kind: 'body',
      status: 429,
      headers: { 'retry-after': '7', 'content-type': 'application/json' },
      body: '{"error":{"message":"Rate limit reached for sk-secret"}}',
    })
    const response = await undiciFetch(fake.url)
    const error = providerErrorFromResponse(response.status, response.headers, 'openai')
    expect(error).toMatchObject({
      code: 'CONTINUUM_PROVIDER_RATE_LIMITED',
      status: 429,
      isRetryable: true,
      retryAfterSeconds: 7,
      details: { provider: 'openai', upstreamStatus: 429 },
    })
    expect(error.message).not.toContain('sk-secret')
  })

  it('classifies statuses: 400/422 bad request, 401/403 auth, 5xx and 408 retryable, other 4xx not', () => {
    const code = (status: number) => {
      const error = providerErrorFromResponse(status, {}, 'p')
      return [error.code, error.status, error.isRetryable, error.details?.upstreamStatus]
    }
    expect(code(400)).toEqual(['CONTINUUM_PROVIDER_BAD_REQUEST', 400, false, 400])
    expect(code(422)).toEqual(['CONTINUUM_PROVIDER_BAD_REQUEST', 400, false, 422])
    expect(code(401)).toEqual(['CONTINUUM_PROVIDER_AUTH_FAILED', 502, false, 401])
    expect(code(403)).toEqual(['CONTINUUM_PROVIDER_AUTH_FAILED', 502, false, 403])
    expect(code(404)).toEqual(['CONTINUUM_PROVIDER_ERROR', 502, false, 404])
    expect(code(408)).toEqual(['CONTINUUM_PROVIDER_ERROR', 502, true, 408])
    expect(code(500)).toEqual(['CONTINUUM_PROVIDER_ERROR', 502, true, 500])
    expect(code(529)).toEqual(['CONTINUUM_PROVIDER_ERROR', 502, true, 529])
  })

  it('parses Retry-After as seconds, HTTP date and retry-after-ms', () => {
    const now = Date.parse('2025-01-01T00:00:00Z')
    expect(parseRetryAfter({ 'Retry-After': '2.5' })).toBe(2.5)
    expect(parseRetryAfter(new Headers({ 'retry-after': 'Wed, 01 Jan 2025 00:00:30 GMT' }), now)).toBe(30)
    expect(parseRetryAfter([['retry-after-ms', '1500']])).toBe(1.5)
    expect(parseRetryAfter({ 'retry-after': 'soon' })).toBeUndefined()
    expect(parseRetryAfter(undefined)).toBeUndefined()
  })
})

describe('providerErrorFromNetwork over real sockets', () => {
  it('maps a refused connection to CONTINUUM_PROVIDER_UNAVAILABLE', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`
    const error = providerErrorFromNetwork(await failure(undiciFetch(url)), 'vllm')
    expect(error).toMatchObject({
      code: 'CONTINUUM_PROVIDER_UNAVAILABLE',
      isRetryable: true,
      details: { networkCode: 'ECONNREFUSED' },
    })
  })

  it('maps a reset connection to CONTINUUM_PROVIDER_UNAVAILABLE', async () => {
    fake.queue({ kind: 'reset' })
    const error = providerErrorFromNetwork(await failure(undiciFetch(fake.url)), 'tgi')
    expect(error).toMatchObject({ code: 'CONTINUUM_PROVIDER_UNAVAILABLE', status: 502 })
  })

  it('maps undici header timeouts to CONTINUUM_PROVIDER_TIMEOUT', async () => {
    const dispatcher = new Agent({ headersTimeout: 50 })
    try {
      const error = providerErrorFromNetwork(await failure(undiciFetch(fake.url, { dispatcher })), 'ollama')
      expect(error).toMatchObject({
        code: 'CONTINUUM_PROVIDER_TIMEOUT',
        status: 504,
        details: { networkCode: 'UND_ERR_HEADERS_TIMEOUT' },
      })
    } finally {
      await dispatcher.close().catch(() => {})
    }
  })

  it('returns AbortErrors from the caller signal and ContinuumErrors unchanged', async () => {
    const controller = new AbortController()
    const pending = failure(undiciFetch(fake.url, { signal: controller.signal }))
    controller.abort()
    const abort = await pending
    expect(providerErrorFromNetwork(abort, 'x')).toBe(abort)
    const original = new ContinuumError('CONTINUUM_PROVIDER_BAD_REQUEST', 'bad')
    expect(providerErrorFromNetwork(original, 'x')).toBe(original)
    const unknown = providerErrorFromNetwork(new Error('key sk-123 leaked?'), 'x') as ContinuumError
    expect(unknown).toMatchObject({ code: 'CONTINUUM_PROVIDER_ERROR', isRetryable: true })
    expect(unknown.message).not.toContain('sk-123')
  })
})
