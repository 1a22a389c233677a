import type { CoreRequest } from 'continuum-proxy'
import { ContinuumError } from 'continuum-proxy'
import { createHealthHandler, InferenceRouter } from 'continuum-proxy/router'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { chat, FakeProvider, manualClock, serverError } from './fake-provider'

afterEach(() => {
  vi.useRealTimers()
})

const get = (url: string, method = 'GET'): CoreRequest => ({
  method,
  url,
  headers: {},
  body: { kind: 'empty' },
  signal: new AbortController().signal,
})

describe('router health', () => {
  it('aggregates healthy, degraded and unhealthy', async () => {
    const healthy = new InferenceRouter({ providers: [new FakeProvider('a'), new FakeProvider('b')] })
    expect(await healthy.health()).toEqual({
      status: 'healthy',
      providers: {
        a: { status: 'healthy', latencyMs: 5, breaker: 'closed' },
        b: { status: 'healthy', latencyMs: 5, breaker: 'closed' },
      },
    })
    const mixed = new InferenceRouter({
      providers: [
        new FakeProvider('a'),
        new FakeProvider('b', {
          health: new ContinuumError('CONTINUUM_PROVIDER_AUTH_FAILED', 'rejected (401) key sk-1'),
        }),
      ],
    })
    const report = await mixed.health()
    expect(report.status).toBe('degraded')
    expect(report.providers.b).toEqual({
      status: 'unhealthy',
      breaker: 'closed',
      detail: 'health probe failed (CONTINUUM_PROVIDER_AUTH_FAILED)',
    })
    const down = new InferenceRouter({ providers: [new FakeProvider('a', { health: new Error('x') })] })
    expect((await down.health()).status).toBe('unhealthy')
  })

  it('times out hanging probes and folds in an open breaker', async () => {
    vi.useFakeTimers()
    const router = new InferenceRouter({
      providers: [
        new FakeProvider('broken', { steps: [serverError('broken')] }),
        new FakeProvider('slow', { health: 'hang' }),
      ],
      timeouts: { healthMs: 100 },
      breaker: { failureThreshold: 1 },
      retry: { maxRetries: 0 },
    })
    await router.complete(chat()).catch(() => {})
    const pending = router.health()
    await vi.advanceTimersByTimeAsync(100)
    const report = await pending
    expect(report.status).toBe('unhealthy')
    expect(report.providers.slow).toMatchObject({
      status: 'unhealthy',
      detail: 'health probe timed out after 100 ms',
    })
    expect(report.providers.broken).toMatchObject({
      status: 'unhealthy',
      breaker: 'open',
      detail: 'circuit open',
    })
  })

  it('reuses a health result for healthCacheMs', async () => {
    const clock = manualClock()
    const provider = new FakeProvider('a')
    const probe = vi.spyOn(provider, 'health')
    const router = new InferenceRouter({ providers: [provider], healthCacheMs: 1000, clock })
    await router.health()
    await router.health()
    expect(probe).toHaveBeenCalledTimes(1)
    clock.advance(1000)
    await router.health()
    expect(probe).toHaveBeenCalledTimes(2)
  })
})

describe('createHealthHandler', () => {
  it('answers /readyz with 200 or 503 and passes other paths through', async () => {
    const good = createHealthHandler({ router: new InferenceRouter({ providers: [new FakeProvider('a')] }) })
    const response = await good(get('/readyz?verbose=1'))
    expect(response?.status).toBe(200)
    expect(response?.headers['content-type']).toMatch(/application\/json/)
    expect(JSON.parse(String(response?.body))).toMatchObject({
      status: 'healthy',
      providers: { a: { status: 'healthy' } },
    })
    expect(await good(get('/v1/chat/completions'))).toBeUndefined()
    const head = await good(get('/readyz', 'HEAD'))
    expect(head).toMatchObject({ status: 200, body: null })
    const post = await good(get('/readyz', 'POST'))
    expect(post?.status).toBe(405)
    expect(JSON.parse(String(post?.body)).error.code).toBe('CONTINUUM_METHOD_NOT_ALLOWED')

    const bad = createHealthHandler({
      router: new InferenceRouter({ providers: [new FakeProvider('a', { health: new Error('down') })] }),
      path: '/health',
      includeProviders: false,
    })
    const failing = await bad(get('/health'))
    expect(failing?.status).toBe(503)
    expect(JSON.parse(String(failing?.body))).toEqual({ status: 'unhealthy' })
    expect(() => createHealthHandler({ router: {} as never })).toThrow(
      expect.objectContaining({ code: 'CONTINUUM_INVALID_OPTIONS' }),
    )
  })
})
