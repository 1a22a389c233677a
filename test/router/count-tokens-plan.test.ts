/**
 * Token counting goes only to providers that can count. The router used to plan every provider
 * of the model and find out per attempt: each provider without a count was admitted first, so a
 * `count_tokens` request, which sends nothing upstream and costs its caller nothing, spent a
 * request of that provider's per-minute budget (shared by every instance and every caller). A
 * flood of them left real requests refused with CONTINUUM_RATE_LIMITED. When no provider of the
 * model could count, the answer was a retryable 503 rather than the documented refusal.
 */
import { MemoryStateStore } from 'continuum-proxy'
import { InferenceRouter, type RouterEvent } from 'continuum-proxy/router'
import { describe, expect, it } from 'vitest'
import { chat, FakeProvider, manualClock } from './fake-provider'

/** A provider with Anthropic's `count_tokens`. */
function counter(id: string): FakeProvider {
  return Object.assign(new FakeProvider(id), {
    countTokens: async () => ({ provider: id, inputTokens: 7 }),
  })
}

describe('token counting', () => {
  it('plans only the providers that can count, and spends no other provider budget', async () => {
    const clock = manualClock(0)
    const events: RouterEvent[] = []
    const chatOnly = new FakeProvider('chat-only')
    const router = new InferenceRouter({
      providers: [chatOnly, counter('counting')],
      rateLimits: { 'chat-only': { requestsPerMinute: 2 } },
      store: new MemoryStateStore({ clock }),
      clock,
      onEvent: (event) => events.push(event),
    })
    const plan = await router.explain(chat(), 'count_tokens')
    expect(plan.candidates.map((candidate) => candidate.provider)).toEqual(['counting'])
    expect(plan.excluded).toContainEqual({ provider: 'chat-only', reason: 'cannot count tokens' })

    for (let index = 0; index < 5; index += 1) {
      expect(await router.countTokens(chat())).toEqual({ provider: 'counting', inputTokens: 7 })
    }
    const attempted = events.flatMap((event) => (event.type === 'attempt-start' ? [event.provider] : []))
    expect(attempted).toEqual(['counting', 'counting', 'counting', 'counting', 'counting'])
    // The chat-only provider's two requests of this minute are still there for chats.
    expect((await router.complete(chat())).provider).toBe('chat-only')
    expect((await router.complete(chat())).provider).toBe('chat-only')
  })

  it('refuses with CONTINUUM_NOT_SUPPORTED when no provider of the model can count', async () => {
    const router = new InferenceRouter({ providers: [new FakeProvider('a'), new FakeProvider('b')] })
    await expect(router.countTokens(chat())).rejects.toMatchObject({
      code: 'CONTINUUM_NOT_SUPPORTED',
      status: 400,
      message: expect.stringContaining('a cannot count tokens; b cannot count tokens'),
    })
  })
})
