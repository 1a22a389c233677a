import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { CanonicalRequest, Clock, ContinuumError } from 'continuum-proxy'
import { silentLogger } from 'continuum-proxy'
import { ProviderRegistry } from 'continuum-proxy/provider-kit'
import { vllm } from 'continuum-proxy/providers'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { vllmProviderType } from '../../adapters/vllm/provider/config'
import { openaiDialect, startOpenAIServer } from '../kit/openai'
import { transcriptUntil } from '../kit/replies'
import { closedPort, type FakeUpstream } from '../kit/server'
import { collect } from './openai-fixtures'
import { describeProviderFailures } from './provider-failures'

const MODEL = 'meta-llama/Llama-3.1-8B-Instruct'
const request: CanonicalRequest = {
  model: MODEL,
  messages: [{ role: 'user', content: 'Why is the sky blue?' }],
  maxTokens: 32,
}

/** A clock the test moves by hand, for the unreachable cooldown. */
function manualClock(): Clock & { advance(ms: number): void } {
  let now = 1_000_000
  return {
    now: () => now,
    advance: (ms) => {
      now += ms
    },
  }
}

describe('vllm provider', () => {
  let first: FakeUpstream
  let second: FakeUpstream
  let refused: string
  beforeAll(async () => {
    first = await startOpenAIServer(openaiDialect(undefined), 'vllm')
    second = await startOpenAIServer(openaiDialect(undefined), 'vllm')
    refused = `http://127.0.0.1:${await closedPort()}`
  })
  afterAll(async () => {
    await first.close()
    await second.close()
  })
  beforeEach(() => {
    first.requests.length = 0
    second.requests.length = 0
  })

  it('completes and streams against the vLLM transcripts, locally and without a key', async () => {
    const provider = vllm({ endpoints: [first.url], models: [MODEL] })
    expect(provider.capabilities).toMatchObject({
      local: true,
      models: [MODEL],
      costPerMillion: { input: 0, output: 0 },
    })
    expect(await provider.complete(request)).toEqual({
      id: 'chatcmpl-8f0e5d6c7b1a4c2e9d3f0a1b2c3d4e5f',
      model: MODEL,
      provider: 'vllm',
      content: 'The sky looks blue because air scatters short wavelengths more strongly.',
      toolCalls: [],
      finishReason: 'stop',
      usage: { inputTokens: 42, outputTokens: 15 },
    })
    expect(first.requests[0]!.url).toBe('/v1/chat/completions')
    expect(first.requests[0]!.headers.authorization).toBeUndefined()
    expect(first.requests[0]!.json().max_tokens).toBe(32)
    expect(await collect(provider.stream(request))).toEqual([
      { type: 'text-delta', text: 'Rayleigh' },
      { type: 'text-delta', text: ' scattering.' },
      { type: 'usage', usage: { inputTokens: 42, outputTokens: 4 } },
      { type: 'finish', finishReason: 'stop' },
    ])
    expect((await provider.embed({ model: 'intfloat/e5-small', input: ['a', 'b'] })).embeddings).toHaveLength(
      2,
    )
    await provider.close?.()
  })

  it('skips an endpoint that refuses connections and keeps it at the back during its cooldown', async () => {
    const clock = manualClock()
    const provider = vllm({
      endpoints: [refused, first.url],
      balancing: 'round_robin',
      unreachableCooldownMs: 10_000,
      clock,
    })
    // Round-robin starts at the refused endpoint: the call moves on to the live one.
    expect((await provider.complete(request)).provider).toBe('vllm')
    expect((await collect(provider.stream(request))).at(-1)).toEqual({ type: 'finish', finishReason: 'stop' })
    for (let call = 0; call < 3; call++) await provider.complete(request)
    expect(first.requests).toHaveLength(5)
    const health = await provider.health()
    expect(health).toMatchObject({ status: 'degraded', detail: '1/2 endpoints healthy' })
    clock.advance(10_001)
    // After the cooldown the refused endpoint is tried again first on its turn, and skipped again.
    await provider.complete(request)
    await provider.complete(request)
    expect(first.requests.filter((sent) => sent.url === '/v1/chat/completions')).toHaveLength(7)
    await provider.close?.()
  })

  it('fails with CONTINUUM_PROVIDER_UNAVAILABLE when every endpoint refuses', async () => {
    const provider = vllm({ endpoints: [refused, refused] })
    let error: unknown
    try {
      await provider.complete(request)
    } catch (thrown) {
      error = thrown
    }
    expect((error as ContinuumError).code).toBe('CONTINUUM_PROVIDER_UNAVAILABLE')
    expect(await provider.health()).toEqual({ status: 'unhealthy', detail: '0/2 endpoints healthy' })
    await provider.close?.()
  })

  it('spreads calls round-robin over healthy endpoints', async () => {
    const provider = vllm({ endpoints: [first.url, second.url], balancing: 'round_robin' })
    for (let call = 0; call < 4; call++) await provider.complete(request)
    expect(first.requests).toHaveLength(2)
    expect(second.requests).toHaveLength(2)
    expect((await provider.health()).status).toBe('healthy')
    await provider.close?.()
  })

  it('sends calls to the endpoint with the fewest in flight', async () => {
    const provider = vllm({ endpoints: [first.url, second.url], balancing: 'least_inflight' })
    first.queue({
      kind: 'chunks',
      headers: { 'content-type': 'text/event-stream' },
      chunks: transcriptUntil('vllm', 'chat-stream-text.sse', '"finish_reason":"stop"'),
      ending: 'hold',
    })
    const stream = provider.stream(request)[Symbol.asyncIterator]()
    expect((await stream.next()).value).toEqual({ type: 'text-delta', text: 'Rayleigh' })
    // The first endpoint is busy with the stream: both completions go to the second.
    await provider.complete(request)
    await provider.complete(request)
    expect(second.requests).toHaveLength(2)
    const closed = first.waitForClientClose()
    await stream.return?.()
    await closed
    // With nothing in flight again, the order rotates back to the first endpoint.
    await provider.complete(request)
    await provider.complete(request)
    expect(first.requests.filter((sent) => sent.method === 'POST')).toHaveLength(2)
    await provider.close?.()
  })

  describe('on a Unix socket', () => {
    let directory: string
    let onSocket: FakeUpstream
    beforeAll(async () => {
      directory = mkdtempSync(join(tmpdir(), 'vllm-socket-'))
      onSocket = await startOpenAIServer(openaiDialect(undefined), 'vllm', {
        socketPath: join(directory, 'gpu0.sock'),
      })
    })
    afterAll(async () => {
      await onSocket.close()
      rmSync(directory, { recursive: true, force: true })
    })

    it('reaches a server through socketPath, and skips a missing socket', async () => {
      const provider = vllm({
        endpoints: [
          { url: 'http://gpu1', socketPath: join(directory, 'missing.sock') },
          { url: 'http://gpu0/v1', socketPath: join(directory, 'gpu0.sock') },
        ],
        balancing: 'round_robin',
      })
      expect((await provider.complete(request)).usage).toEqual({ inputTokens: 42, outputTokens: 15 })
      expect(await provider.health()).toMatchObject({ status: 'degraded', detail: '1/2 endpoints healthy' })
      await provider.close?.()
    })
  })

  it('validates endpoints and balancing', () => {
    for (const options of [
      { endpoints: [] },
      { endpoints: ['ftp://x'] },
      { endpoints: [{ url: 'http://x', socketPath: '' }] },
      { endpoints: ['http://x'], balancing: 'random' },
    ]) {
      let error: unknown
      try {
        vllm(options as never)
      } catch (thrown) {
        error = thrown
      }
      expect((error as ContinuumError).code).toBe('CONTINUUM_INVALID_OPTIONS')
    }
  })

  it('is built by its config factory from an endpoints list', async () => {
    const registry = new ProviderRegistry([vllmProviderType])
    const built = registry.create(
      {
        id: 'local-vllm',
        type: 'vllm',
        models: [MODEL],
        timeoutMs: 5_000,
        headers: {},
        capabilities: { contextWindow: 131_072 },
        settings: { endpoints: [first.url, { url: second.url }], balancing: 'round_robin' },
      },
      { clock: { now: () => Date.now() }, logger: silentLogger },
    )
    expect(built.capabilities.contextWindow).toBe(131_072)
    await built.complete(request)
    await built.complete(request)
    expect([first.requests.length, second.requests.length]).toEqual([1, 1])
    await built.close?.()
  })
})

describeProviderFailures({
  name: 'vllm',
  start: () => startOpenAIServer(openaiDialect('vllm-5ecret'), 'vllm'),
  provider: (baseURL, timeoutMs) => vllm({ endpoints: [baseURL], apiKey: 'vllm-5ecret', timeoutMs }),
  request,
  partialStream: {
    headers: { 'content-type': 'text/event-stream' },
    chunks: transcriptUntil('vllm', 'chat-stream-text.sse', '"finish_reason":"stop"'),
  },
  errorBody: { object: 'error', message: 'failure', type: 'InternalServerError', param: null, code: 500 },
  secret: 'vllm-5ecret',
})
