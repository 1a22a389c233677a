/**
 * A lease granted after its caller gave up is given back. A stalled Redis (DEBUG SLEEP, as an
 * overloaded server would) holds a lease script past the store's timeout, or past a client's
 * abort; when the server wakes up it runs the script and takes the slot for a request that is gone.
 * Before the fix that slot stayed taken until its lease ran out, so a few slow moments (or an
 * attacker aborting requests during them) ate a provider's `maxConcurrency` for everyone. Now the
 * store returns a lease its caller never learnt of, the router's limiter gives back what an
 * abandoned admission is granted (slot and window charges), a late renewal keeps the holder's own
 * lease, and after a flood of aborted admissions nothing is left over: no lease, no charge, no
 * request counted in flight. The in-memory store answers within the call, so only its end state
 * is checked.
 */
import { randomUUID } from 'node:crypto'
import { MemoryStateStore, type StateStore } from 'continuum-proxy'
import { createRedisStateStore } from 'continuum-proxy/redis'
import { InferenceRouter } from 'continuum-proxy/router'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chat, FakeProvider } from '../router/fake-provider'
import { type RedisServer, startRedis } from '../support/redis-servers'

let server: RedisServer
let admin: ReturnType<typeof createClient>

beforeAll(async () => {
  server = await startRedis(['--enable-debug-command', 'yes'])
  admin = createClient({ url: server.url })
  admin.on('error', () => undefined)
  await admin.connect()
}, 60_000)

afterAll(async () => {
  await admin?.close()
  await server?.stop()
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Stalls the whole server for `ms`; resolves when it answers again. */
async function stall(ms: number, run: () => Promise<void>): Promise<void> {
  const sleeping = admin.sendCommand(['DEBUG', 'SLEEP', String(ms / 1000)])
  await sleep(20)
  await run()
  await sleeping
}

const leaseKey = (id: string) => `continuum:router:{${id}}:leases`
const holders = async (id: string) => Number(await admin.sendCommand(['HLEN', leaseKey(id)]))

/** The `N in flight` the least_busy policy reads, for the router's only provider. */
async function inFlight(router: InferenceRouter): Promise<number> {
  const plan = await router.explain(chat())
  return Number(/^(\d+) in flight/.exec(plan.candidates[0]!.reason)?.[1])
}

/** Holds `count` requests at a hanging provider; returns how many were admitted and a release. */
async function holdSlots(
  store: StateStore,
  id: string,
  count: number,
): Promise<{ admitted: number; release(): Promise<void> }> {
  const hanging = new FakeProvider(id, { steps: ['hang'] })
  const router = new InferenceRouter({
    providers: [hanging],
    rateLimits: { [id]: { maxConcurrency: 2 } },
    concurrencyLeaseMs: 30_000,
    retry: { maxRetries: 0 },
    store,
  })
  const controllers = Array.from({ length: count }, () => new AbortController())
  const held = controllers.map((controller) =>
    router.complete(chat('m', { signal: controller.signal })).catch((error: unknown) => error),
  )
  await sleep(150)
  return {
    admitted: hanging.calls.length,
    async release() {
      for (const controller of controllers) controller.abort()
      await Promise.all(held)
      await router.close()
    },
  }
}

describe('a lease granted after its caller gave up (real Redis)', () => {
  it('is given back by the store when its round trip outlived the timeout', async () => {
    const store = await createRedisStateStore({ connection: { url: server.url }, timeoutMs: 100 })
    const key = `leases:{late-${randomUUID()}}`
    // The script is loaded first, so the stalled call is the script itself.
    expect(await store.acquireLease(`${key}-warm`, 'warm', 1, 1_000)).toBe(true)
    await stall(500, async () => {
      await expect(store.acquireLease(key, 'gone', 1, 30_000)).rejects.toMatchObject({
        code: 'CONTINUUM_STORE_UNAVAILABLE',
      })
    })
    // The script ran once the server woke up; the lease it took is returned straight after,
    // not in 30 s, so the one unit is free for the next holder at once.
    await expect.poll(() => store.acquireLease(key, 'next', 1, 30_000), { interval: 20 }).toBe(true)
    expect(await admin.sendCommand(['HKEYS', `continuum:${key}`])).toEqual(['next'])
    await store.close()
  })

  it('keeps a renewal that lands late: the holder still holds its own lease', async () => {
    const store = await createRedisStateStore({ connection: { url: server.url }, timeoutMs: 100 })
    const key = `leases:{renewal-${randomUUID()}}`
    expect(await store.acquireLease(key, 'runner', 1, 30_000)).toBe(true)
    await stall(400, async () => {
      await expect(store.acquireLease(key, 'runner', 1, 30_000)).rejects.toMatchObject({
        code: 'CONTINUUM_STORE_UNAVAILABLE',
      })
    })
    await sleep(100)
    expect(await admin.sendCommand(['HLEN', `continuum:${key}`])).toBe(1)
    expect(await store.acquireLease(key, 'other', 1, 30_000)).toBe(false)
    await store.close()
  })

  it('frees the slot of a router request that failed open while Redis stalled', async () => {
    const id = `late-open-${randomUUID()}`
    const store = await createRedisStateStore({ connection: { url: server.url }, timeoutMs: 100 })
    const router = new InferenceRouter({
      providers: [new FakeProvider(id)],
      rateLimits: { [id]: { maxConcurrency: 2 } },
      concurrencyLeaseMs: 30_000,
      store,
    })
    await stall(500, async () => {
      // The store times out, the limit fails open and the request is answered without a lease.
      await expect(router.complete(chat())).resolves.toMatchObject({ provider: id })
    })
    await expect.poll(() => holders(id), { interval: 20 }).toBe(0)
    const slots = await holdSlots(store, id, 2)
    expect(slots.admitted).toBe(2)
    await slots.release()
    await router.close()
    await store.close()
  })

  it('stops waiting on a client abort, and gives back what the admission is granted later', async () => {
    const id = `late-abort-${randomUUID()}`
    const store = await createRedisStateStore({ connection: { url: server.url }, timeoutMs: 3_000 })
    // The rpm window is named by its minute, and the test may cross a minute boundary, so every
    // window the test could have charged is read and summed.
    const firstMinute = Math.floor(Date.now() / 60_000)
    const charged = async () => {
      let total = 0
      for (let minute = firstMinute; minute <= Math.floor(Date.now() / 60_000); minute += 1) {
        total += Number(await admin.sendCommand(['GET', `continuum:router:{${id}:${minute}}:rpm`]))
      }
      return total
    }
    const router = new InferenceRouter({
      providers: [new FakeProvider(id)],
      policy: { type: 'least_busy' },
      rateLimits: { [id]: { maxConcurrency: 50, requestsPerMinute: 1_000 } },
      concurrencyLeaseMs: 30_000,
      store,
    })
    // Warm the connection and the scripts, so the flood below is one stalled round trip each.
    await router.complete(chat())
    expect(await charged()).toBe(1)
    const settledAfterMs: number[] = []
    await stall(800, async () => {
      const controllers = Array.from({ length: 20 }, () => new AbortController())
      const started = performance.now()
      const outcomes = controllers.map((controller) =>
        router.complete(chat('m', { signal: controller.signal })).then(
          () => 'answered',
          (error: { code?: string }) => {
            settledAfterMs.push(performance.now() - started)
            return error.code
          },
        ),
      )
      await sleep(50)
      for (const controller of controllers) controller.abort()
      expect(await Promise.all(outcomes)).toEqual(Array(20).fill('CONTINUUM_CLIENT_ABORTED'))
    })
    // The callers were let go at their abort, not when the store answered.
    expect(Math.max(...settledAfterMs)).toBeLessThan(500)
    // Once the store answers, every late grant is released and every charge refunded.
    await expect.poll(() => holders(id), { interval: 20 }).toBe(0)
    await expect.poll(charged, { interval: 20 }).toBe(1)
    expect(await inFlight(router)).toBe(0)
    // No slot is left over: a cap of 2 on the same provider admits two requests at once.
    const slots = await holdSlots(store, id, 2)
    expect(slots.admitted).toBe(2)
    await slots.release()
    await router.close()
    await store.close()
  })
})

describe('aborted admissions on the in-memory store', () => {
  it('leave no slot taken and nothing counted in flight', async () => {
    const id = `memory-${randomUUID()}`
    const store = new MemoryStateStore()
    const router = new InferenceRouter({
      providers: [new FakeProvider(id)],
      policy: { type: 'least_busy' },
      rateLimits: { [id]: { maxConcurrency: 2 } },
      store,
    })
    for (let round = 0; round < 50; round += 1) {
      const controller = new AbortController()
      const pending = router.complete(chat('m', { signal: controller.signal }))
      controller.abort()
      await expect(pending).rejects.toMatchObject({ code: 'CONTINUUM_CLIENT_ABORTED' })
    }
    expect(await inFlight(router)).toBe(0)
    const slots = await holdSlots(store, id, 2)
    expect(slots.admitted).toBe(2)
    await slots.release()
    await router.close()
  })
})
