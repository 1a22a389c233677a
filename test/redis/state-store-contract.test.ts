/**
 * The StateStore contract, one scenario list run against the in-memory store, a real standalone
 * redis-server and a real 3-master Redis Cluster: values and expiry, set-if-absent racing from two
 * instances, counters that keep their expiry, all-or-nothing check-and-charge that never
 * overspends under concurrency, lease slots that free themselves when a holder vanishes, binary
 * values, and prefixes that keep two applications apart.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { MemoryStateStore, type StateStore } from 'continuum-proxy'
import { createRedisStateStore } from 'continuum-proxy/redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RedisCluster, type RedisServer, startRedis, startRedisCluster } from '../support/redis-servers'

interface Backend {
  name: string
  /** Two stores that share state, as two proxy instances would. */
  open(prefix?: string): Promise<[StateStore, StateStore]>
}

let server: RedisServer
let cluster: RedisCluster
const opened: StateStore[] = []

beforeAll(async () => {
  ;[server, cluster] = await Promise.all([startRedis(), startRedisCluster()])
}, 60_000)

afterAll(async () => {
  await Promise.all(opened.map((store) => store.close?.()))
  await Promise.all([server?.stop(), cluster?.stop()])
})

async function track(stores: Promise<StateStore>[]): Promise<[StateStore, StateStore]> {
  const [one, two] = await Promise.all(stores)
  opened.push(one!, two!)
  return [one!, two!]
}

const shared = new MemoryStateStore()
const backends: Backend[] = [
  { name: 'memory', open: async () => [shared, shared] },
  {
    name: 'redis standalone',
    open: (prefix) =>
      track(
        [0, 1].map(() =>
          createRedisStateStore({ connection: { url: server.url }, ...(prefix ? { prefix } : {}) }),
        ),
      ),
  },
  {
    name: 'redis cluster',
    open: (prefix) =>
      track(
        [0, 1].map(() =>
          createRedisStateStore({
            connection: { cluster: { rootNodes: cluster.rootNodes } },
            ...(prefix ? { prefix } : {}),
          }),
        ),
      ),
  },
]

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe.each(backends)('StateStore contract: $name', (backend) => {
  let one: StateStore
  let two: StateStore
  const key = (name: string) => `{test-${randomUUID()}}:${name}`

  beforeAll(async () => {
    ;[one, two] = await backend.open()
  })

  it('reads what another instance wrote, and forgets it after its ttl', async () => {
    const name = key('value')
    await one.set(name, 'hello', 150)
    expect(await two.get(name)).toBe('hello')
    // Gone once its ttl has passed (the poll gives up after a second, far beyond the ttl).
    await expect.poll(() => two.get(name)).toBeUndefined()
    const lasting = key('lasting')
    await one.set(lasting, 'kept')
    expect(await two.get(lasting)).toBe('kept')
    await two.delete(lasting)
    expect(await one.get(lasting)).toBeUndefined()
  })

  it('lets exactly one of many racing writers set a key that is absent', async () => {
    const name = key('nonce')
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, index) => (index % 2 === 0 ? one : two).setIfAbsent(name, 'x', 10_000)),
    )
    expect(results.filter(Boolean)).toHaveLength(1)
  })

  it('counts fractional amounts from both instances; a counter keeps the expiry it was created with', async () => {
    const name = key('counter')
    expect(await one.increment(name, 0.5, 200)).toBe(0.5)
    await sleep(120)
    expect(await two.increment(name, 1.25, 10_000)).toBe(1.75)
    // Gone with the first expiry, long before the second increment's 10 s.
    await expect.poll(() => one.get(name)).toBeUndefined()
  })

  it('charges all or nothing, and never overspends under concurrency from two instances', async () => {
    // Keys charged together share a hash tag, so a cluster keeps them on one slot.
    const tag = `{budget-${randomUUID()}}`
    const epsilon = `${tag}:epsilon`
    const delta = `${tag}:delta`
    const first = await one.chargeWithin(
      [
        { key: epsilon, amount: 0.4, limit: 1 },
        { key: delta, amount: 1, limit: 3 },
      ],
      10_000,
    )
    expect(first).toEqual({ accepted: true, values: [0.4, 1] })
    const refused = await two.chargeWithin(
      [
        { key: epsilon, amount: 0.7, limit: 1 },
        { key: delta, amount: 1, limit: 3 },
      ],
      10_000,
    )
    expect(refused).toEqual({ accepted: false, values: [0.4, 1] })
    const budget = key('budget')
    const charges = await Promise.all(
      Array.from({ length: 120 }, (_, index) =>
        (index % 2 === 0 ? one : two).chargeWithin([{ key: budget, amount: 1, limit: 50 }], 10_000),
      ),
    )
    expect(charges.filter((charge) => charge.accepted)).toHaveLength(50)
    expect(await one.get(budget)).toBe('50')
    if (backend.name !== 'redis cluster') return
    // Keys on different slots cannot be charged together: a caller bug, refused, not "unavailable".
    await expect(
      one.chargeWithin(
        [
          { key: key('a'), amount: 1, limit: 5 },
          { key: key('b'), amount: 1, limit: 5 },
        ],
        10_000,
      ),
    ).rejects.toMatchObject({ code: 'CONTINUUM_INTERNAL' })
  })

  it('gives at most `limit` lease slots, renews a holder, and frees slots on release or expiry', async () => {
    const name = key('leases')
    expect(await one.acquireLease(name, 'a', 2, 10_000)).toBe(true)
    expect(await two.acquireLease(name, 'b', 2, 250)).toBe(true)
    expect(await one.acquireLease(name, 'c', 2, 10_000)).toBe(false)
    expect(await two.acquireLease(name, 'a', 2, 10_000)).toBe(true)
    await one.releaseLease(name, 'a')
    expect(await two.acquireLease(name, 'c', 2, 10_000)).toBe(true)
    expect(await one.acquireLease(name, 'd', 2, 10_000)).toBe(false)
    // b crashed without releasing: its slot frees itself when its lease runs out.
    await expect.poll(() => one.acquireLease(name, 'd', 2, 10_000)).toBe(true)
  })

  it('weighs leases: units of several holders add up to the limit, a renewal may change its weight', async () => {
    const name = key('weighted')
    expect(await one.acquireLease(name, 'keys-a', 100, 10_000, 60)).toBe(true)
    expect(await two.acquireLease(name, 'keys-b', 100, 10_000, 50)).toBe(false)
    expect(await two.acquireLease(name, 'keys-b', 100, 250, 40)).toBe(true)
    // Renewing keys-a with a larger weight counts only the others' units.
    expect(await one.acquireLease(name, 'keys-a', 100, 10_000, 61)).toBe(false)
    expect(await one.acquireLease(name, 'keys-a', 100, 10_000, 60)).toBe(true)
    // keys-b's 40 units free themselves when its 250 ms lease runs out.
    await expect.poll(() => two.acquireLease(name, 'keys-c', 100, 10_000, 40)).toBe(true)
    await one.releaseLease(name, 'keys-a')
    expect(await two.acquireLease(name, 'keys-d', 100, 10_000, 60)).toBe(true)
    await expect(one.acquireLease(name, 'keys-e', 100, 10_000, 0.5)).rejects.toMatchObject({
      code: 'CONTINUUM_INVALID_OPTIONS',
    })
    // Leases from many holders racing on two instances never exceed the limit together.
    const racing = key('racing')
    const taken = await Promise.all(
      Array.from({ length: 40 }, (_, index) =>
        (index % 2 === 0 ? one : two).acquireLease(racing, `holder-${index}`, 50, 10_000, 7),
      ),
    )
    expect(taken.filter(Boolean)).toHaveLength(7)
  })

  it('moves the expiry of a key that exists, and only of one that exists', async () => {
    const name = key('touched')
    await one.setBytes(name, Buffer.from('bundle'), 200)
    expect(await two.touch(name, 10_000)).toBe(true)
    await sleep(350)
    expect(Buffer.from((await one.getBytes(name))!).toString()).toBe('bundle')
    expect(await two.touch(name, 100)).toBe(true)
    await expect.poll(() => one.getBytes(name)).toBeUndefined()
    expect(await one.touch(key('never-written'), 10_000)).toBe(false)
  })

  it('stores binary values byte for byte', async () => {
    const name = key('bytes')
    const value = Buffer.concat([Buffer.from([0, 255, 0xc3, 0x28]), randomBytes(4096)])
    await one.setBytes(name, value, 10_000)
    expect(Buffer.from((await two.getBytes(name))!)).toEqual(value)
    expect(await two.getBytes(key('missing'))).toBeUndefined()
  })

  it('keeps applications with different prefixes apart', async () => {
    if (backend.name === 'memory') return
    const [first] = await backend.open('app-one:')
    const [second] = await backend.open('app-two:')
    const name = key('shared-name')
    await first.set(name, 'one', 10_000)
    expect(await second.get(name)).toBeUndefined()
  })
})
