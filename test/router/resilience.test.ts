import diagnosticsChannel from 'node:diagnostics_channel'
import { ContinuumError, MemoryStateStore } from 'continuum-proxy'
import { InferenceRouter, ROUTER_DIAGNOSTICS_CHANNEL, type RouterEvent } from 'continuum-proxy/router'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { chat, FakeProvider, manualClock, serverError } from './fake-provider'

const noDelay = { maxRetries: 2, baseDelayMs: 0 }

afterEach(() => {
  vi.useRealTimers()
})

describe('retries and fallback', () => {
  it('retries transient errors on the same provider, then succeeds', async () => {
    const provider = new FakeProvider('a', { steps: [serverError('a'), serverError('a'), 'ok'] })
    const router = new InferenceRouter({ providers: [provider], retry: noDelay })
    const answer = await router.complete(chat())
    expect(answer).toMatchObject({ provider: 'a', content: 'answer from a' })
    expect(provider.calls).toHaveLength(3)
  })

  it('falls over to the next provider after retries are spent, and never retries non-retryable errors', async () => {
    const auth = new FakeProvider('a', {
      steps: [
        new ContinuumError(
          'CONTINUUM_PROVIDER_AUTH_FAILED',
          'Provider a rejected the configured credentials (401)',
        ),
      ],
    })
    const flaky = new FakeProvider('b', { steps: [serverError('b')] })
    const good = new FakeProvider('c')
    const router = new InferenceRouter({ providers: [auth, flaky, good], retry: noDelay })
    const answer = await router.complete(chat())
    expect(answer.provider).toBe('c')
    expect(auth.calls).toHaveLength(1)
    expect(flaky.calls).toHaveLength(3)
  })

  it('stops at a provider 400: the request itself is bad', async () => {
    const bad = new FakeProvider('a', {
      steps: [new ContinuumError('CONTINUUM_PROVIDER_BAD_REQUEST', 'Provider a rejected the request (400)')],
    })
    const other = new FakeProvider('b')
    const router = new InferenceRouter({ providers: [bad, other], retry: noDelay })
    await expect(router.complete(chat())).rejects.toMatchObject({
      code: 'CONTINUUM_PROVIDER_BAD_REQUEST',
      status: 400,
    })
    expect(other.calls).toHaveLength(0)
  })

  it('reports every attempt when all providers fail, without content', async () => {
    const router = new InferenceRouter({
      providers: [
        new FakeProvider('a', { steps: [serverError('a')] }),
        new FakeProvider('b', { steps: [new Error('secret prompt')] }),
      ],
      retry: { maxRetries: 0 },
    })
    const error = await router
      .complete(chat('m', { messages: [{ role: 'user', content: 'secret prompt' }] }))
      .catch((e) => e)
    expect(error).toMatchObject({ code: 'CONTINUUM_NO_PROVIDER_AVAILABLE', status: 503 })
    expect(error.details.attempts).toEqual([
      { provider: 'a', code: 'CONTINUUM_PROVIDER_ERROR' },
      { provider: 'b', code: 'CONTINUUM_PROVIDER_ERROR' },
    ])
    expect(JSON.stringify(error.toJSON())).not.toContain('secret')
    expect(error.message).not.toContain('secret')
  })

  it('waits for Retry-After with jittered exponential backoff driven by fake timers', async () => {
    vi.useFakeTimers()
    const limited = new ContinuumError(
      'CONTINUUM_PROVIDER_RATE_LIMITED',
      'Provider a is rate limiting (429)',
      {
        retryAfterSeconds: 3,
      },
    )
    const provider = new FakeProvider('a', { steps: [limited, 'ok'] })
    const router = new InferenceRouter({
      providers: [provider],
      retry: { maxRetries: 1, baseDelayMs: 100 },
      clock: { now: () => Date.now() },
      random: () => 0.5,
    })
    const pending = router.complete(chat())
    await vi.advanceTimersByTimeAsync(2999)
    expect(provider.calls).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    await expect(pending).resolves.toMatchObject({ provider: 'a' })
    expect(provider.calls).toHaveLength(2)
  })

  it('moves on instead of waiting when Retry-After exceeds maxRetryAfterMs', async () => {
    const limited = new ContinuumError(
      'CONTINUUM_PROVIDER_RATE_LIMITED',
      'Provider a is rate limiting (429)',
      {
        retryAfterSeconds: 600,
      },
    )
    const a = new FakeProvider('a', { steps: [limited] })
    const router = new InferenceRouter({
      providers: [a, new FakeProvider('b')],
      retry: { maxRetryAfterMs: 1000 },
    })
    await expect(router.complete(chat())).resolves.toMatchObject({ provider: 'b' })
    expect(a.calls).toHaveLength(1)
  })

  it('a single rate-limited provider passes its 429 and Retry-After through', async () => {
    const limited = new ContinuumError(
      'CONTINUUM_PROVIDER_RATE_LIMITED',
      'Provider a is rate limiting (429)',
      {
        retryAfterSeconds: 600,
      },
    )
    const router = new InferenceRouter({ providers: [new FakeProvider('a', { steps: [limited] })] })
    await expect(router.complete(chat())).rejects.toMatchObject({ status: 429, retryAfterSeconds: 600 })
  })
})

describe('timeouts and aborts', () => {
  it('enforces the per-attempt timeout and aborts the provider call, then falls over', async () => {
    vi.useFakeTimers()
    const slow = new FakeProvider('slow', { steps: ['hang'] })
    const router = new InferenceRouter({
      providers: [slow, new FakeProvider('fast')],
      timeouts: { attemptMs: 1000 },
      retry: { maxRetries: 0 },
    })
    const pending = router.complete(chat())
    await vi.advanceTimersByTimeAsync(1000)
    await expect(pending).resolves.toMatchObject({ provider: 'fast' })
    expect(slow.signals[0]!.aborted).toBe(true)
  })

  it('enforces the total timeout across retries', async () => {
    vi.useFakeTimers()
    const router = new InferenceRouter({
      providers: [new FakeProvider('slow', { steps: ['hang'] })],
      timeouts: { attemptMs: 1000, totalMs: 1500 },
      retry: { maxRetries: 5, baseDelayMs: 0 },
      clock: { now: () => Date.now() },
    })
    const pending = router.complete(chat()).catch((error) => error)
    await vi.advanceTimersByTimeAsync(1500)
    const error = await pending
    expect(error).toMatchObject({ code: 'CONTINUUM_PROVIDER_TIMEOUT', status: 504 })
  })

  it('a caller abort ends the request at once with CONTINUUM_CLIENT_ABORTED and aborts the provider', async () => {
    const slow = new FakeProvider('slow', { steps: ['hang'] })
    const other = new FakeProvider('other')
    const router = new InferenceRouter({ providers: [slow, other] })
    const controller = new AbortController()
    const pending = router.complete(chat('m', { signal: controller.signal }))
    await new Promise((resolve) => setImmediate(resolve))
    controller.abort()
    await expect(pending).rejects.toMatchObject({ code: 'CONTINUUM_CLIENT_ABORTED' })
    expect(slow.signals[0]!.aborted).toBe(true)
    expect(other.calls).toHaveLength(0)
  })
})

describe('circuit breaker', () => {
  it('opens after consecutive transient failures, skips the provider, then half-opens and closes', async () => {
    const clock = manualClock()
    const events: RouterEvent[] = []
    const flaky = new FakeProvider('flaky', { steps: [serverError('flaky')] })
    const backup = new FakeProvider('backup')
    const router = new InferenceRouter({
      providers: [flaky, backup],
      retry: { maxRetries: 0 },
      breaker: { failureThreshold: 3, cooldownMs: 10_000 },
      clock,
      onEvent: (event) => events.push(event),
    })
    for (let index = 0; index < 3; index += 1) await router.complete(chat())
    expect(flaky.calls).toHaveLength(3)
    expect(events).toContainEqual({ type: 'breaker-state', provider: 'flaky', from: 'closed', to: 'open' })
    const plan = await router.explain(chat())
    expect(plan.candidates[0]).toMatchObject({ provider: 'flaky', breaker: 'open', available: false })
    await router.complete(chat())
    expect(flaky.calls).toHaveLength(3)
    expect(events).toContainEqual({
      type: 'provider-skipped',
      operation: 'complete',
      provider: 'flaky',
      reason: 'circuit-open',
    })

    clock.advance(10_000)
    flaky.setSteps(['ok'])
    const probe = await router.complete(chat())
    expect(probe.provider).toBe('flaky')
    expect(
      events.filter((event) => event.type === 'breaker-state').map((event) => (event as { to: string }).to),
    ).toEqual(['open', 'half-open', 'closed'])
  })

  it('re-opens when the half-open probe fails', async () => {
    const clock = manualClock()
    const flaky = new FakeProvider('flaky', { steps: [serverError('flaky')] })
    const router = new InferenceRouter({
      providers: [flaky, new FakeProvider('backup')],
      retry: { maxRetries: 0 },
      breaker: { failureThreshold: 1, cooldownMs: 1000 },
      clock,
    })
    await router.complete(chat())
    clock.advance(1000)
    expect((await router.explain(chat())).candidates[0]!.breaker).toBe('half-open')
    await router.complete(chat())
    expect(flaky.calls).toHaveLength(2)
    expect((await router.explain(chat())).candidates[0]!.breaker).toBe('open')
  })

  it('opens on the failure rate over the window even without consecutive failures', async () => {
    const clock = manualClock()
    const steps = Array.from({ length: 10 }, (_, index) =>
      index % 2 === 0 ? serverError('a') : ('ok' as const),
    )
    const flaky = new FakeProvider('a', { steps: [...steps, 'ok'] })
    const router = new InferenceRouter({
      providers: [flaky, new FakeProvider('b')],
      retry: { maxRetries: 0 },
      breaker: { failureThreshold: 100, failureRateThreshold: 0.5, minimumRequests: 10 },
      clock,
    })
    for (let index = 0; index < 10; index += 1) await router.complete(chat())
    expect((await router.explain(chat())).candidates[0]!.breaker).toBe('closed')
    flaky.setSteps([serverError('a')])
    await router.complete(chat())
    expect((await router.explain(chat())).candidates[0]!.breaker).toBe('open')
  })

  it('does not count non-retryable errors (a 400) against the provider', async () => {
    const bad = new ContinuumError('CONTINUUM_PROVIDER_BAD_REQUEST', 'Provider a rejected the request (400)')
    const provider = new FakeProvider('a', { steps: [bad] })
    const router = new InferenceRouter({ providers: [provider], breaker: { failureThreshold: 1 } })
    for (let index = 0; index < 3; index += 1)
      await expect(router.complete(chat())).rejects.toMatchObject({ status: 400 })
    expect((await router.explain(chat())).candidates[0]!.breaker).toBe('closed')
  })

  it('every provider open-circuited gives CONTINUUM_CIRCUIT_OPEN with a Retry-After', async () => {
    const clock = manualClock()
    const router = new InferenceRouter({
      providers: [
        new FakeProvider('a', { steps: [serverError('a')] }),
        new FakeProvider('b', { steps: [serverError('b')] }),
      ],
      retry: { maxRetries: 0 },
      breaker: { failureThreshold: 1, cooldownMs: 5000 },
      clock,
    })
    await expect(router.complete(chat())).rejects.toMatchObject({ code: 'CONTINUUM_NO_PROVIDER_AVAILABLE' })
    clock.advance(1000)
    await expect(router.complete(chat())).rejects.toMatchObject({
      code: 'CONTINUUM_CIRCUIT_OPEN',
      status: 503,
      retryAfterSeconds: 4,
    })
  })
})

describe('rate limits', () => {
  it('enforces requests per minute through the StateStore and falls over', async () => {
    const clock = manualClock(0)
    const store = new MemoryStateStore({ clock })
    const a = new FakeProvider('a')
    const router = new InferenceRouter({
      providers: [a, new FakeProvider('b')],
      rateLimits: { a: { requestsPerMinute: 2 } },
      store,
      clock,
    })
    const providers = []
    for (let index = 0; index < 3; index += 1) providers.push((await router.complete(chat())).provider)
    expect(providers).toEqual(['a', 'a', 'b'])
    clock.advance(60_000)
    expect((await router.complete(chat())).provider).toBe('a')
  })

  it('enforces tokens per minute from reported usage; a lone limited provider answers CONTINUUM_RATE_LIMITED', async () => {
    const clock = manualClock(0)
    const router = new InferenceRouter({
      providers: [new FakeProvider('a')],
      rateLimits: { a: { tokensPerMinute: 20 } },
      clock,
    })
    await router.complete(chat())
    await expect(router.complete(chat())).rejects.toMatchObject({
      code: 'CONTINUUM_RATE_LIMITED',
      status: 429,
      retryAfterSeconds: 60,
    })
  })

  it('caps concurrency per provider', async () => {
    const slow = new FakeProvider('a', { steps: ['hang'] })
    const router = new InferenceRouter({
      providers: [slow, new FakeProvider('b')],
      rateLimits: { a: { maxConcurrency: 1 } },
    })
    const controller = new AbortController()
    const first = router.complete(chat('m', { signal: controller.signal }))
    await new Promise((resolve) => setImmediate(resolve))
    await expect(router.complete(chat())).resolves.toMatchObject({ provider: 'b' })
    controller.abort()
    await expect(first).rejects.toMatchObject({ code: 'CONTINUUM_CLIENT_ABORTED' })
    slow.setSteps(['ok'])
    await expect(router.complete(chat())).resolves.toMatchObject({ provider: 'a' })
  })
})

describe('events', () => {
  it('reports attempts on onEvent and the diagnostics channel; a throwing onEvent hook cannot break a request', async () => {
    const published: unknown[] = []
    const listener = (message: unknown): void => {
      published.push(message)
    }
    diagnosticsChannel.subscribe(ROUTER_DIAGNOSTICS_CHANNEL, listener)
    try {
      const router = new InferenceRouter({
        providers: [new FakeProvider('a', { steps: [serverError('a'), 'ok'] })],
        retry: noDelay,
        onEvent: () => {
          throw new Error('hook bug')
        },
      })
      await expect(router.complete(chat())).resolves.toMatchObject({ provider: 'a' })
      const types = published.map((event) => (event as RouterEvent).type)
      expect(types).toEqual(['route', 'attempt-start', 'attempt-end', 'attempt-start', 'attempt-end'])
      expect(published[2]).toMatchObject({
        outcome: 'error',
        errorCode: 'CONTINUUM_PROVIDER_ERROR',
        provider: 'a',
      })
    } finally {
      diagnosticsChannel.unsubscribe(ROUTER_DIAGNOSTICS_CHANNEL, listener)
    }
  })

  it('embeds through the same resilience path and closes providers', async () => {
    const a = new FakeProvider('a', { capabilities: { embeddings: false } })
    const b = new FakeProvider('b')
    const router = new InferenceRouter({ providers: [a, b] })
    await expect(router.embed({ model: 'e', input: ['abc', 'de'] })).resolves.toEqual({
      model: 'e',
      provider: 'b',
      embeddings: [
        [3, 1],
        [2, 1],
      ],
      usage: { inputTokens: 2, outputTokens: 0 },
    })
    await router.close()
    expect(a.closed && b.closed).toBe(true)
    await expect(router.complete(chat())).rejects.toMatchObject({ code: 'CONTINUUM_NO_PROVIDER_AVAILABLE' })
  })
})
