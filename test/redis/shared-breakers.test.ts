/**
 * Circuit breakers shared on real Redis (`sharedBreakers`): failures seen by one instance open
 * the provider's breaker on another within the refresh period, so the second instance skips the
 * provider without ever calling it; an instance without sharing keeps calling it. The request
 * path never waits for Redis: with Redis gone, the local breakers keep working and the failure
 * is counted on the store channel. Once the cooldown ends, instances probe again on their own.
 */
import { randomUUID } from 'node:crypto'
import type { StateStore } from 'continuum-proxy'
import { createRedisStateStore } from 'continuum-proxy/redis'
import { InferenceRouter } from 'continuum-proxy/router'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chat, FakeProvider, serverError } from '../router/fake-provider'
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

async function breakerOf(router: InferenceRouter, id: string): Promise<string | undefined> {
  const plan = await router.explain(chat())
  return plan.candidates.find((candidate) => candidate.provider === id)?.breaker
}

function instance(flakyId: string, store: StateStore, shared: boolean) {
  const flaky = new FakeProvider(flakyId, { steps: [serverError(flakyId)] })
  const backup = new FakeProvider('backup')
  const router = new InferenceRouter({
    providers: [flaky, backup],
    policy: { type: 'fallback_chain', chain: [flakyId, 'backup'] },
    retry: { maxRetries: 0 },
    breaker: { failureThreshold: 2, cooldownMs: 1_500 },
    store,
    ...(shared ? { sharedBreakers: { refreshMs: 100 } } : {}),
  })
  return { router, flaky, backup }
}

describe.each(['standalone', 'cluster'] as Topology[])('shared breakers on %s Redis', (topology) => {
  it('opens the breaker on every instance when one instance sees the failures', async () => {
    const id = `flaky-${randomUUID()}`
    const [storeOne, storeThree, storeLocal] = await backends.open(topology, 3)
    const one = instance(id, storeOne!, true)
    const three = instance(id, storeThree!, true)
    const unshared = instance(id, storeLocal!, false)
    for (let index = 0; index < 2; index += 1) {
      await expect(one.router.complete(chat())).resolves.toMatchObject({ provider: 'backup' })
    }
    expect(one.flaky.calls).toHaveLength(2)
    expect(await breakerOf(one.router, id)).toBe('open')
    // Within the refresh period the other instance opens its breaker without calling the provider.
    await expect.poll(() => breakerOf(three.router, id)).toBe('open')
    await expect(three.router.complete(chat())).resolves.toMatchObject({ provider: 'backup' })
    expect(three.flaky.calls).toHaveLength(0)
    // Sharing is opt-in: an instance without it learns nothing and calls the provider.
    await expect(unshared.router.complete(chat())).resolves.toMatchObject({ provider: 'backup' })
    expect(unshared.flaky.calls).toHaveLength(1)
    // After the cooldown each instance lets a probe through again; a healthy provider closes it.
    three.flaky.setSteps(['ok'])
    await sleep(1_700)
    await expect(three.router.complete(chat())).resolves.toMatchObject({ provider: id })
    expect(await breakerOf(three.router, id)).toBe('closed')
    await Promise.all([one.router.close(), three.router.close(), unshared.router.close()])
  })
})

describe('shared breakers when Redis is gone', () => {
  it('keep each instance on its local breaker, never waiting for Redis', async () => {
    const server = await startRedis()
    const id = `flaky-${randomUUID()}`
    const store = await createRedisStateStore({ connection: { url: server.url }, timeoutMs: 200 })
    const one = instance(id, store, true)
    await server.kill()
    const { events } = await storeFailures(async () => {
      const started = performance.now()
      for (let index = 0; index < 3; index += 1) {
        await expect(one.router.complete(chat())).resolves.toMatchObject({ provider: 'backup' })
      }
      expect(performance.now() - started).toBeLessThan(1_000)
      // Opened locally by its own two failures: the third request skipped the provider.
      expect(one.flaky.calls).toHaveLength(2)
      await sleep(250)
    })
    expect(events).toContainEqual(expect.objectContaining({ consumer: 'breaker', decision: 'open' }))
    await one.router.close()
    await store.close()
    await server.stop()
  })
})
