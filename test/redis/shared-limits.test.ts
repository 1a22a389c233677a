/**
 * Router limits shared on real Redis (standalone and a 3-master cluster), as two instances of a
 * service would share them, each router on its own connection: a requests-per-minute limit
 * holds exactly under concurrent bursts from both (one atomic check-and-charge, no double spend),
 * also while its window's slot moves to another master; tokens per minute are reserved and then
 * corrected to the reported usage; `maxConcurrency` is a fleet-wide lease that a live instance
 * keeps renewing and a crashed one gives up after one lease period. When Redis is gone the
 * limits fail open (counted on the store channel) or, if configured, closed with a coded 503.
 */
import { randomUUID } from 'node:crypto'
import { createRedisStateStore } from 'continuum-proxy/redis'
import { InferenceRouter } from 'continuum-proxy/router'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chat, FakeProvider, manualClock } from '../router/fake-provider'
import { startRedis } from '../support/redis-servers'
import { type SharedBackends, startBackends, storeFailures, type Topology } from './support/shared-stores'

let backends: SharedBackends

beforeAll(async () => {
  backends = await startBackends()
}, 60_000)

afterAll(async () => {
  await backends?.stop()
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A fixed point inside a minute window, so a test never straddles two windows. */
const windowStart = () => manualClock(Math.floor(Date.now() / 60_000) * 60_000 + 1_000)

describe.each(['standalone', 'cluster'] as Topology[])('shared router limits on %s Redis', (topology) => {
  it('holds a requests-per-minute limit of N across two instances under concurrency', async () => {
    const id = `rpm-${randomUUID()}`
    const clock = windowStart()
    const stores = await backends.open(topology, 2)
    const routers = stores.map(
      (store) =>
        new InferenceRouter({
          providers: [new FakeProvider(id)],
          rateLimits: { [id]: { requestsPerMinute: 10 } },
          store,
          clock,
        }),
    )
    const burst = (count: number) =>
      Promise.allSettled(Array.from({ length: count }, (_, index) => routers[index % 2]!.complete(chat())))
    const first = await burst(12)
    if (topology === 'cluster') {
      // Resharding mid-window: the counter moves to another master and keeps counting.
      const window = Math.floor(clock.now() / 60_000)
      const slot = await backends.cluster!.slotOf(`continuum:router:{${id}:${window}}:rpm`)
      const owner = await backends.cluster!.ownerOf(slot)
      await backends.cluster!.moveSlot(slot, (owner + 1) % 3)
      expect(await backends.cluster!.ownerOf(slot)).toBe((owner + 1) % 3)
    }
    const second = await burst(18)
    const outcomes = [...first, ...second]
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(10)
    for (const outcome of outcomes.filter((outcome) => outcome.status === 'rejected')) {
      expect((outcome as PromiseRejectedResult).reason).toMatchObject({
        code: 'CONTINUUM_RATE_LIMITED',
        status: 429,
      })
    }
    // The next window starts afresh on both instances.
    clock.advance(60_000)
    await expect(routers[1]!.complete(chat())).resolves.toMatchObject({ provider: id })
    await Promise.all(routers.map((router) => router.close()))
  })

  it('reserves estimated tokens and corrects them to the reported usage', async () => {
    const id = `tpm-${randomUUID()}`
    const clock = windowStart()
    const stores = await backends.open(topology, 2)
    const routers = stores.map(
      (store) =>
        new InferenceRouter({
          providers: [new FakeProvider(id)],
          rateLimits: { [id]: { tokensPerMinute: 100 } },
          store,
          clock,
        }),
    )
    // Each call is estimated at 7 tokens and reports 15: six fit, the seventh is reserved at 90 + 7.
    let accepted = 0
    for (let index = 0; index < 10; index += 1) {
      try {
        await routers[index % 2]!.complete(chat())
        accepted += 1
      } catch (error) {
        expect(error).toMatchObject({ code: 'CONTINUUM_RATE_LIMITED' })
      }
    }
    expect(accepted).toBe(7)
    const window = Math.floor(clock.now() / 60_000)
    expect(await stores[0]!.get(`router:{${id}:${window}}:tpm`)).toBe('105')
    await Promise.all(routers.map((router) => router.close()))
  })

  it('caps concurrency across instances with leases a crashed instance gives up', async () => {
    const id = `conc-${randomUUID()}`
    const [storeOne, storeTwo] = await backends.open(topology, 2)
    const slow = new FakeProvider(id, { steps: ['hang'] })
    const options = {
      rateLimits: { [id]: { maxConcurrency: 2 } },
      concurrencyLeaseMs: 600,
      retry: { maxRetries: 0 },
    }
    const one = new InferenceRouter({ providers: [slow], store: storeOne!, ...options })
    const two = new InferenceRouter({ providers: [new FakeProvider(id)], store: storeTwo!, ...options })
    const controllers = [new AbortController(), new AbortController()]
    const hanging = controllers.map((controller) =>
      one.complete(chat('m', { signal: controller.signal })).catch((error: unknown) => error),
    )
    await expect.poll(() => slow.calls.length).toBe(2)
    await expect(two.complete(chat())).rejects.toMatchObject({ code: 'CONTINUUM_RATE_LIMITED' })
    // Still refused after several lease periods: the live instance renews its leases.
    await sleep(1_500)
    await expect(two.complete(chat())).rejects.toMatchObject({ code: 'CONTINUUM_RATE_LIMITED' })
    // Instance one "crashes": its connection dies, so its leases are no longer renewed.
    await storeOne!.close()
    await sleep(900)
    await expect(two.complete(chat())).resolves.toMatchObject({ provider: id })
    for (const controller of controllers) controller.abort()
    await Promise.all(hanging)
    // A released lease frees its slot at once.
    const [storeThree] = await backends.open(topology, 1)
    const three = new InferenceRouter({
      providers: [new FakeProvider(id, { steps: ['hang'] })],
      store: storeThree!,
      ...options,
    })
    const aborts = [new AbortController(), new AbortController()]
    const held = aborts.map((controller) =>
      three.complete(chat('m', { signal: controller.signal })).catch((error: unknown) => error),
    )
    await sleep(100)
    await expect(two.complete(chat())).rejects.toMatchObject({ code: 'CONTINUUM_RATE_LIMITED' })
    aborts[0]!.abort()
    await held[0]
    await expect
      .poll(
        () =>
          two.complete(chat()).then(
            (answer) => answer.provider,
            () => 'refused',
          ),
        { interval: 20 },
      )
      .toBe(id)
    aborts[1]!.abort()
    await held[1]
    await Promise.all([one.close(), two.close(), three.close()])
  })
})

describe('router limits when Redis is gone', () => {
  it('fail open by default, with a store-failure event, and closed when configured', async () => {
    const server = await startRedis()
    const store = await createRedisStateStore({ connection: { url: server.url }, timeoutMs: 200 })
    const id = `down-${randomUUID()}`
    const limits = { [id]: { requestsPerMinute: 100, maxConcurrency: 4 } }
    const open = new InferenceRouter({ providers: [new FakeProvider(id)], rateLimits: limits, store })
    const closed = new InferenceRouter({
      providers: [new FakeProvider(id)],
      rateLimits: limits,
      store,
      rateLimitStoreFailure: 'closed',
    })
    await expect(open.complete(chat())).resolves.toMatchObject({ provider: id })
    await server.kill()
    const { events } = await storeFailures(async () => {
      const started = performance.now()
      await expect(open.complete(chat())).resolves.toMatchObject({ provider: id })
      await expect(closed.complete(chat())).rejects.toMatchObject({
        code: 'CONTINUUM_STORE_UNAVAILABLE',
        status: 503,
        isRetryable: true,
      })
      expect(performance.now() - started).toBeLessThan(2_000)
    })
    expect(events).toContainEqual({
      type: 'store-failure',
      consumer: 'rate-limit',
      decision: 'open',
      code: 'CONTINUUM_STORE_UNAVAILABLE',
    })
    expect(events).toContainEqual(expect.objectContaining({ consumer: 'rate-limit', decision: 'closed' }))
    await server.start()
    await expect
      .poll(
        () =>
          closed.complete(chat()).then(
            () => 'answered',
            () => 'refused',
          ),
        { timeout: 10_000, interval: 100 },
      )
      .toBe('answered')
    await Promise.all([open.close(), closed.close()])
    await store.close()
    await server.stop()
  })
})
