import { ContinuumError } from 'continuum-proxy'
import { InferenceRouter, type StreamChunk } from 'continuum-proxy/router'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { chat, collect, FakeProvider, serverError } from './fake-provider'

afterEach(() => {
  vi.useRealTimers()
})

const text = (value: string): StreamChunk => ({ type: 'text-delta', text: value })
const finish: StreamChunk = { type: 'finish', finishReason: 'stop' }

describe('router streams', () => {
  it('relays chunks in order from the first provider', async () => {
    const a = new FakeProvider('a', {
      steps: [
        {
          chunks: [
            text('Hel'),
            text('lo'),
            { type: 'usage', usage: { inputTokens: 3, outputTokens: 2 } },
            finish,
          ],
        },
      ],
    })
    const router = new InferenceRouter({ providers: [a] })
    expect(await collect(router.stream(chat()))).toEqual([
      text('Hel'),
      text('lo'),
      { type: 'usage', usage: { inputTokens: 3, outputTokens: 2 } },
      finish,
    ])
  })

  it('falls over transparently when a stream fails before its first chunk', async () => {
    const a = new FakeProvider('a', { steps: [serverError('a')] })
    const b = new FakeProvider('b')
    const router = new InferenceRouter({ providers: [a, b], retry: { maxRetries: 0 } })
    expect(await collect(router.stream(chat()))).toEqual([text('streamed from b'), finish])
  })

  it('retries a provider whose stream ends before any chunk', async () => {
    const a = new FakeProvider('a', { steps: [{ chunks: [] }, 'ok'] })
    const router = new InferenceRouter({ providers: [a], retry: { maxRetries: 1, baseDelayMs: 0 } })
    expect(await collect(router.stream(chat()))).toEqual([text('streamed from a'), finish])
  })

  it('ends with a typed error chunk when the stream fails after delivering chunks, never a silent cut', async () => {
    const a = new FakeProvider('a', { steps: [{ chunks: [text('partial')], failAfter: serverError('a') }] })
    const b = new FakeProvider('b')
    const router = new InferenceRouter({ providers: [a, b] })
    const chunks = await collect(router.stream(chat()))
    expect(chunks).toHaveLength(2)
    expect(chunks[0]).toEqual(text('partial'))
    const last = chunks[1] as { type: 'error'; error: ContinuumError }
    expect(last.type).toBe('error')
    expect(last.error).toMatchObject({
      code: 'CONTINUUM_STREAM_INTERRUPTED',
      status: 502,
      details: { provider: 'a', upstreamCode: 'CONTINUUM_PROVIDER_ERROR' },
    })
    expect(b.calls).toHaveLength(0)
  })

  it('treats a stream that ends without a finish chunk as interrupted', async () => {
    const a = new FakeProvider('a', { steps: [{ chunks: [text('cut')] }] })
    const router = new InferenceRouter({ providers: [a] })
    const chunks = await collect(router.stream(chat()))
    expect(chunks.map((chunk) => chunk.type)).toEqual(['text-delta', 'error'])
  })

  it('aborts the provider when the consumer breaks out of the loop', async () => {
    const a = new FakeProvider('a', { steps: [{ chunks: [text('one'), text('two')], hangAfter: true }] })
    const router = new InferenceRouter({ providers: [a] })
    for await (const chunk of router.stream(chat())) {
      expect(chunk).toEqual(text('one'))
      break
    }
    expect(a.signals[0]!.aborted).toBe(true)
    await vi.waitFor(() => expect(a.streamsCleanedUp).toBe(1))
  })

  it('ends with an error chunk when the stream goes silent past streamIdleMs', async () => {
    vi.useFakeTimers()
    const a = new FakeProvider('a', { steps: [{ chunks: [text('one')], hangAfter: true }] })
    const router = new InferenceRouter({ providers: [a], timeouts: { streamIdleMs: 500 } })
    const pending = collect(router.stream(chat()))
    await vi.advanceTimersByTimeAsync(500)
    const chunks = await pending
    expect(chunks[1]).toMatchObject({
      type: 'error',
      error: {
        code: 'CONTINUUM_STREAM_INTERRUPTED',
        details: { upstreamCode: 'CONTINUUM_PROVIDER_TIMEOUT' },
      },
    })
    expect(a.signals[0]!.aborted).toBe(true)
  })

  it('falls over when the first chunk does not come within the attempt timeout', async () => {
    vi.useFakeTimers()
    const a = new FakeProvider('a', { steps: ['hang'] })
    const router = new InferenceRouter({
      providers: [a, new FakeProvider('b')],
      timeouts: { attemptMs: 200 },
      retry: { maxRetries: 0 },
    })
    const pending = collect(router.stream(chat()))
    await vi.advanceTimersByTimeAsync(200)
    expect(await pending).toEqual([text('streamed from b'), finish])
  })

  it('throws (no chunks) when every provider fails before the first chunk, and on a caller abort', async () => {
    const router = new InferenceRouter({
      providers: [
        new FakeProvider('a', { steps: [new ContinuumError('CONTINUUM_PROVIDER_BAD_REQUEST', 'bad (400)')] }),
      ],
    })
    await expect(collect(router.stream(chat()))).rejects.toMatchObject({
      code: 'CONTINUUM_PROVIDER_BAD_REQUEST',
    })

    const controller = new AbortController()
    const hanging = new InferenceRouter({
      providers: [new FakeProvider('h', { steps: [{ chunks: [text('x')], hangAfter: true }] })],
    })
    const seen: StreamChunk[] = []
    const pending = (async () => {
      for await (const chunk of hanging.stream(chat('m', { signal: controller.signal }))) {
        seen.push(chunk)
        controller.abort()
      }
    })()
    await expect(pending).rejects.toMatchObject({ code: 'CONTINUUM_CLIENT_ABORTED' })
    expect(seen).toEqual([text('x')])
  })

  it('does not count a slow consumer against streamIdleMs, and still times out a silent provider after it', async () => {
    vi.useFakeTimers()
    const a = new FakeProvider('a', {
      steps: [{ chunks: [text('one'), text('two'), finish] }, { chunks: [text('one')], hangAfter: true }],
    })
    const router = new InferenceRouter({ providers: [a], timeouts: { streamIdleMs: 500 } })
    // The consumer holds each chunk twice as long as the idle timeout: the provider is not silent.
    const slow: StreamChunk[] = []
    for await (const chunk of router.stream(chat())) {
      slow.push(chunk)
      await vi.advanceTimersByTimeAsync(1000)
    }
    expect(slow).toEqual([text('one'), text('two'), finish])

    // After a pause longer than the timeout, a provider that then goes silent still times out.
    const iterator = router.stream(chat())[Symbol.asyncIterator]()
    expect((await iterator.next()).value).toEqual(text('one'))
    await vi.advanceTimersByTimeAsync(1000)
    const next = iterator.next()
    await vi.advanceTimersByTimeAsync(500)
    expect((await next).value).toMatchObject({
      type: 'error',
      error: {
        code: 'CONTINUUM_STREAM_INTERRUPTED',
        details: { upstreamCode: 'CONTINUUM_PROVIDER_TIMEOUT' },
      },
    })
    expect(a.signals[1]!.aborted).toBe(true)
  })

  it('skips providers without streaming', async () => {
    const router = new InferenceRouter({
      providers: [new FakeProvider('a', { capabilities: { streaming: false } }), new FakeProvider('b')],
    })
    expect(
      (await router.explain(chat(), 'stream')).candidates.map((candidate) => candidate.provider),
    ).toEqual(['b'])
    expect(await collect(router.stream(chat()))).toEqual([text('streamed from b'), finish])
  })
})
