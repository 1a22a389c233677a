/**
 * A breaker timeout counts only when the provider answered nobody. The attack: requests made
 * slow on purpose (a huge output, a prompt that takes long, a stream that stalls after its first
 * chunk) time out one after another, and with every timeout counted as a provider failure they
 * opened the breaker for every caller while the provider was serving everyone else. With
 * `breaker.countTimeouts: 'unresponsive'` (the default) those timeouts are neutral; client aborts
 * and short client deadlines never count in either mode; a provider that answers no one still
 * opens the breaker; `'always'` keeps counting every timeout. The option and its config-file key
 * `count_timeouts` are validated.
 */
import { createDefaultProviderRegistry } from 'continuum-proxy/providers'
import {
  type CanonicalRequest,
  InferenceRouter,
  loadRouterConfig,
  type RouterEvent,
} from 'continuum-proxy/router'
import { describe, expect, it } from 'vitest'
import { chat, collect, FakeProvider, type Step } from './fake-provider'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function hangUntilAborted(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_, reject) => {
    const abort = (): void => reject(Object.assign(new Error('aborted'), { name: 'AbortError' }))
    if (signal?.aborted) abort()
    signal?.addEventListener('abort', abort, { once: true })
  })
}

const slowText = 'please write a very long essay'
const isSlow = (request: CanonicalRequest) => request.messages[0]?.content === slowText
const slow = (extra: Partial<CanonicalRequest> = {}) =>
  chat('m', { messages: [{ role: 'user', content: slowText }], ...extra })

/** Answers every request at once, except the slow ones, which it works on until aborted. */
const selective: Step = async (request) => {
  if (isSlow(request)) return hangUntilAborted(request.signal)
  return {
    id: 'answer',
    model: request.model,
    provider: 'p',
    content: 'quick answer',
    toolCalls: [],
    finishReason: 'stop',
    usage: { inputTokens: 3, outputTokens: 2 },
  }
}

function routerWith(
  provider: FakeProvider,
  countTimeouts?: 'unresponsive' | 'always',
): { router: InferenceRouter; opened: () => number } {
  const events: RouterEvent[] = []
  const router = new InferenceRouter({
    providers: [provider],
    retry: { maxRetries: 0 },
    breaker: {
      failureThreshold: 3,
      cooldownMs: 60_000,
      ...(countTimeouts === undefined ? {} : { countTimeouts }),
    },
    timeouts: { attemptMs: 150, streamIdleMs: 150 },
    onEvent: (event) => events.push(event),
  })
  const opened = () => events.filter((event) => event.type === 'breaker-state' && event.to === 'open').length
  return { router, opened }
}

describe.each(['unresponsive', 'always'] as const)(
  "a caller's own abort never counts (countTimeouts: %s)",
  (countTimeouts) => {
    it('a flood of client-aborted and short-deadline requests leaves the breaker closed', async () => {
      const provider = new FakeProvider('p', { steps: ['hang'] })
      const { router, opened } = routerWith(provider, countTimeouts)
      const controllers = Array.from({ length: 10 }, () => new AbortController())
      const aborted = controllers.map((controller) =>
        router
          .complete(chat('m', { signal: controller.signal }))
          .catch((error: { code: string }) => error.code),
      )
      // Deadlines shorter than the attempt timeout, as an impatient (or hostile) client sets them.
      const deadlines = Array.from({ length: 10 }, (_, index) =>
        router
          .complete(chat('m', { signal: AbortSignal.timeout(10 + index * 5) }))
          .catch((error: { code: string }) => error.code),
      )
      const streams = Array.from({ length: 5 }, () =>
        collect(router.stream(chat('m', { signal: AbortSignal.timeout(20) }))).catch(
          (error: { code: string }) => error.code,
        ),
      )
      await sleep(30)
      for (const controller of controllers) controller.abort()
      const codes = await Promise.all([...aborted, ...deadlines, ...streams])
      expect(new Set(codes)).toEqual(new Set(['CONTINUUM_CLIENT_ABORTED']))
      expect(opened()).toBe(0)
      provider.setSteps(['ok'])
      await expect(router.complete(chat())).resolves.toMatchObject({ provider: 'p' })
      await router.close()
    })
  },
)

describe('timeouts of requests that are slow for their own sake (default: unresponsive)', () => {
  it('do not open the breaker while the provider answers other callers', async () => {
    const provider = new FakeProvider('p', { steps: [selective] })
    const { router, opened } = routerWith(provider)
    const attack = Array.from({ length: 12 }, () =>
      router.complete(slow()).catch((error: { code: string }) => error.code),
    )
    await sleep(20)
    // Everyone else is served meanwhile.
    for (let index = 0; index < 3; index += 1)
      await expect(router.complete(chat())).resolves.toMatchObject({ content: 'quick answer' })
    expect(await Promise.all(attack)).toEqual(Array(12).fill('CONTINUUM_PROVIDER_TIMEOUT'))
    expect(opened()).toBe(0)
    await expect(router.complete(chat())).resolves.toMatchObject({ content: 'quick answer' })
    // A second wave, the provider still answering others, changes nothing.
    const wave = Array.from({ length: 12 }, () => router.complete(slow()).catch(() => 'failed'))
    await sleep(20)
    await router.complete(chat())
    await Promise.all(wave)
    expect(opened()).toBe(0)
    await router.close()
  })

  it('do not open it for streams that stall after their first chunk, nor for streams others get answers beside', async () => {
    const stalling: Step = { chunks: [{ type: 'text-delta', text: 'a first word' }], hangAfter: true }
    const provider = new FakeProvider('p', { steps: [stalling] })
    const { router, opened } = routerWith(provider)
    // Streams that answered, then went quiet: the provider did respond; the stall is this stream's.
    const stalls = await Promise.all(Array.from({ length: 6 }, () => collect(router.stream(chat()))))
    for (const chunks of stalls) {
      expect(chunks.at(-1)).toMatchObject({
        type: 'error',
        error: {
          code: 'CONTINUUM_STREAM_INTERRUPTED',
          details: { upstreamCode: 'CONTINUUM_PROVIDER_TIMEOUT' },
        },
      })
    }
    expect(opened()).toBe(0)
    // Streams that never start, while other streams get their first chunk.
    provider.setSteps(['hang'])
    const waiting = Array.from({ length: 6 }, () =>
      collect(router.stream(chat())).catch((error) => error.code),
    )
    await sleep(20)
    provider.setSteps(['ok'])
    await expect(collect(router.stream(chat()))).resolves.toContainEqual({
      type: 'finish',
      finishReason: 'stop',
    })
    expect(await Promise.all(waiting)).toEqual(Array(6).fill('CONTINUUM_PROVIDER_TIMEOUT'))
    expect(opened()).toBe(0)
    await router.close()
  })
})

describe('a truly unresponsive provider', () => {
  it.each(['unresponsive', 'always'] as const)(
    'still opens the breaker (countTimeouts: %s)',
    async (mode) => {
      const provider = new FakeProvider('p', { steps: ['hang'] })
      const { router, opened } = routerWith(provider, mode)
      // It answered once, long ago; since then it answers nobody.
      provider.setSteps(['ok'])
      await router.complete(chat())
      provider.setSteps(['hang'])
      await sleep(5)
      const outcomes = await Promise.all(
        Array.from({ length: 3 }, () =>
          router.complete(chat()).catch((error: { code: string }) => error.code),
        ),
      )
      expect(outcomes).toEqual(Array(3).fill('CONTINUUM_PROVIDER_TIMEOUT'))
      expect(opened()).toBe(1)
      await expect(router.complete(chat())).rejects.toMatchObject({ code: 'CONTINUUM_CIRCUIT_OPEN' })
      await router.close()
    },
  )

  it('opens it with streams that never send a first chunk', async () => {
    const provider = new FakeProvider('p', { steps: ['hang'] })
    const { router, opened } = routerWith(provider)
    for (let index = 0; index < 3; index += 1) {
      await expect(collect(router.stream(chat()))).rejects.toMatchObject({
        code: 'CONTINUUM_PROVIDER_TIMEOUT',
      })
    }
    expect(opened()).toBe(1)
    await router.close()
  })
})

describe("countTimeouts: 'always'", () => {
  it('counts every timeout, as before: slow requests open the breaker even while others are served', async () => {
    const provider = new FakeProvider('p', { steps: [selective] })
    const { router, opened } = routerWith(provider, 'always')
    const attack = Array.from({ length: 6 }, () => router.complete(slow()).catch(() => 'failed'))
    await sleep(20)
    await router.complete(chat())
    await Promise.all(attack)
    expect(opened()).toBe(1)
    await expect(router.complete(chat())).rejects.toMatchObject({ code: 'CONTINUUM_CIRCUIT_OPEN' })
    await router.close()
  })
})

describe('the option', () => {
  it('is validated at construction', () => {
    expect(
      () =>
        new InferenceRouter({
          providers: [new FakeProvider('p')],
          breaker: { countTimeouts: 'sometimes' as never },
        }),
    ).toThrow(expect.objectContaining({ code: 'CONTINUUM_INVALID_OPTIONS' }))
  })

  it('is read from count_timeouts in [inference.breaker], and a wrong value is refused', async () => {
    const config = (value: string) => `
[inference]
routing_policy = "cloud_first"

[inference.breaker]
count_timeouts = "${value}"

[inference.providers.local]
type = "vllm"
endpoint = "http://127.0.0.1:9"
local = true
models = ["llama"]
`
    const providerTypes = createDefaultProviderRegistry()
    const options = await loadRouterConfig('router.toml', {
      providerTypes,
      readFile: async () => config('always'),
    })
    expect(options.breaker).toMatchObject({ countTimeouts: 'always' })
    await expect(
      loadRouterConfig('router.toml', { providerTypes, readFile: async () => config('never') }),
    ).rejects.toThrow(/count_timeouts/)
  })
})
