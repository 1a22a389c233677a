/**
 * A half-open breaker lets one probe through; its answer closes or re-opens the breaker. A
 * streamed probe answered only when the stream ended, so the probe slot stayed taken for as long
 * as the consumer kept reading, and a client that reads slowly (or stops reading and keeps the
 * connection open) kept a recovered provider skipped by every other caller for as long as it
 * liked. The first chunk already shows the provider serves again: it now closes the breaker.
 */
import { InferenceRouter, type RouterEvent, type StreamChunk } from 'continuum-proxy/router'
import { describe, expect, it } from 'vitest'
import { chat, FakeProvider, manualClock, serverError } from './fake-provider'

/** A router whose `flaky` breaker is half-open after one failure and a cooldown. */
async function halfOpen() {
  const clock = manualClock()
  const events: RouterEvent[] = []
  const flaky = new FakeProvider('flaky', { steps: [serverError('flaky')] })
  const backup = new FakeProvider('backup')
  const router = new InferenceRouter({
    providers: [flaky, backup],
    retry: { maxRetries: 0 },
    breaker: { failureThreshold: 1, cooldownMs: 1000 },
    clock,
    onEvent: (event) => events.push(event),
  })
  expect((await router.complete(chat())).provider).toBe('backup')
  clock.advance(1000)
  expect((await router.explain(chat())).candidates[0]).toMatchObject({
    breaker: 'half-open',
    available: true,
  })
  return { router, flaky, backup, events }
}

function transitions(events: RouterEvent[]): string[] {
  return events.flatMap((event) => (event.type === 'breaker-state' ? [event.to] : []))
}

describe('a streamed half-open probe', () => {
  it('closes the breaker at its first chunk, while its consumer is still reading', async () => {
    const { router, flaky, events } = await halfOpen()
    flaky.setSteps(['ok'])
    // The probe: the caller reads one chunk and then stops reading, connection held.
    const probe = router.stream(chat())[Symbol.asyncIterator]()
    const first = await probe.next()
    expect(first.value).toMatchObject({ type: 'text-delta', text: 'streamed from flaky' })

    const plan = await router.explain(chat())
    expect(plan.candidates[0]).toMatchObject({ provider: 'flaky', breaker: 'closed', available: true })
    expect((await router.complete(chat())).provider).toBe('flaky')

    // The probe's own end changes nothing more.
    const rest: StreamChunk[] = []
    for (let next = await probe.next(); next.done !== true; next = await probe.next()) rest.push(next.value)
    expect(rest).toEqual([{ type: 'finish', finishReason: 'stop' }])
    expect(transitions(events)).toEqual(['open', 'half-open', 'closed'])
  })

  it('still counts a failure after the first chunk against the provider', async () => {
    const { router, flaky } = await halfOpen()
    flaky.setSteps([{ chunks: [{ type: 'text-delta', text: 'partial' }], failAfter: serverError('flaky') }])
    const chunks: StreamChunk[] = []
    for await (const chunk of router.stream(chat())) chunks.push(chunk)
    expect(chunks.at(-1)).toMatchObject({ type: 'error', error: { code: 'CONTINUUM_STREAM_INTERRUPTED' } })
    expect((await router.explain(chat())).candidates[0]).toMatchObject({ breaker: 'open', available: false })
  })

  it('does not take an error chunk for an answer', async () => {
    const { router, flaky, events } = await halfOpen()
    flaky.setSteps([{ chunks: [{ type: 'error', error: serverError('flaky') }] }])
    const chunks: StreamChunk[] = []
    for await (const chunk of router.stream(chat())) chunks.push(chunk)
    expect(chunks).toHaveLength(1)
    // Straight back to open: the breaker never closed on the error chunk.
    expect(transitions(events)).toEqual(['open', 'half-open', 'open'])
  })

  it('lets a consumer that stops early leave the breaker closed', async () => {
    const { router, flaky } = await halfOpen()
    flaky.setSteps([{ chunks: [{ type: 'text-delta', text: 'partial' }], hangAfter: true }])
    for await (const chunk of router.stream(chat())) {
      expect(chunk).toMatchObject({ type: 'text-delta' })
      break
    }
    expect((await router.explain(chat())).candidates[0]).toMatchObject({ breaker: 'closed', available: true })
  })
})
