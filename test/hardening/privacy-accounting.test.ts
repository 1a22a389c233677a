/**
 * The privacy accountant accounts exactly. The attacks: many releases each too small to be
 * charged (before: 200,000 releases of epsilon 4e-10 left a budget of 1 untouched), releases
 * rounded down to fit (before: ten of 1.49e-9 passed a budget of 1e-8, spending 1.49e-8), and a
 * Gaussian release with a delta too small to count (before: delta 4e-16 passed a delta budget of
 * 0). Now every charge is rounded up to the accountant's unit and every budget down.
 */
import { type ContinuumError, MemoryStateStore, type StateStore } from 'continuum-proxy'
import { PrivacyAccountant, seededUniform } from 'continuum-proxy/privacy'
import { createRedisStateStore } from 'continuum-proxy/redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RedisCluster, startRedisCluster } from '../support/redis-servers'

const accountant = (epsilon: number, delta = 0) =>
  new PrivacyAccountant({ epsilon, delta, store: new MemoryStateStore(), random: seededUniform(5) })

async function outcome(action: Promise<unknown>): Promise<string> {
  try {
    await action
    return 'released'
  } catch (error) {
    return (error as ContinuumError).code
  }
}

describe('exact privacy accounting', () => {
  it('charges every one of 200,000 releases of epsilon 4e-10', async () => {
    const budget = accountant(1)
    for (let release = 0; release < 200_000; release++) {
      await budget.release('tenant', [1], { mechanism: 'laplace', epsilon: 4e-10, sensitivity: 1 })
    }
    // 200,000 × 4e-10 = 8e-5 spent, to the last unit.
    expect((await budget.remaining('tenant')).epsilon).toBeCloseTo(0.99992, 15)
  }, 60_000)

  it('lets exactly as many releases of 1.49e-9 through a 1e-8 budget as fit (six)', async () => {
    const budget = accountant(1e-8)
    const outcomes: string[] = []
    for (let release = 0; release < 10; release++) {
      outcomes.push(
        await outcome(
          budget.release('tenant', [1], { mechanism: 'laplace', epsilon: 1.49e-9, sensitivity: 1 }),
        ),
      )
    }
    expect(outcomes.filter((result) => result === 'released')).toHaveLength(6)
    expect(outcomes.slice(6)).toEqual(Array(4).fill('CONTINUUM_PRIVACY_BUDGET_EXHAUSTED'))
    // What is left is 1e-8 - 6 × 1.49e-9 = 1.06e-9: less than one more release.
    expect((await budget.remaining('tenant')).epsilon).toBeCloseTo(1.06e-9, 20)
  })

  it('refuses a Gaussian release with delta 4e-16 against a delta budget of 0', async () => {
    const budget = accountant(1, 0)
    const gaussian = { mechanism: 'gaussian' as const, epsilon: 0.1, delta: 4e-16, sensitivity: 1 }
    expect(await outcome(budget.release('tenant', [1], gaussian))).toBe('CONTINUUM_PRIVACY_BUDGET_EXHAUSTED')
    // Nothing was charged for the refused release.
    expect((await budget.remaining('tenant')).epsilon).toBe(1)
    const small = accountant(1, 1e-15)
    expect(await outcome(small.release('tenant', [1], gaussian))).toBe('released')
    expect(await outcome(small.release('tenant', [1], gaussian))).toBe('released')
    expect(await outcome(small.release('tenant', [1], gaussian))).toBe('CONTINUUM_PRIVACY_BUDGET_EXHAUSTED')
  })

  it('never charges nothing: the smallest epsilon costs one unit (1e-12)', async () => {
    const budget = accountant(1e-11)
    for (let release = 0; release < 10; release++) await budget.charge('tenant', Number.MIN_VALUE)
    expect(await outcome(budget.charge('tenant', 1e-13))).toBe('CONTINUUM_PRIVACY_BUDGET_EXHAUSTED')
    expect((await budget.remaining('tenant')).epsilon).toBe(0)
  })

  it('counts decimals as written: ten releases of 0.1 spend a budget of 1 exactly', async () => {
    const budget = accountant(1)
    for (let release = 0; release < 10; release++) await budget.charge('tenant', 0.1)
    expect((await budget.remaining('tenant')).epsilon).toBe(0)
    expect(await outcome(budget.charge('tenant', 1e-12))).toBe('CONTINUUM_PRIVACY_BUDGET_EXHAUSTED')
  })

  it('refuses a single charge larger than the budget without touching the store', async () => {
    const budget = accountant(2)
    expect(await outcome(budget.charge('tenant', 1e300))).toBe('CONTINUUM_PRIVACY_BUDGET_EXHAUSTED')
    expect(await outcome(budget.charge('tenant', 1, 0.5))).toBe('CONTINUUM_PRIVACY_BUDGET_EXHAUSTED')
    expect((await budget.remaining('tenant')).epsilon).toBe(2)
  })

  it('stays exact when many charges of one identity race', async () => {
    const budget = accountant(1)
    const results = await Promise.all(
      Array.from({ length: 500 }, () => outcome(budget.charge('tenant', 0.003))),
    )
    expect(results.filter((result) => result === 'released')).toHaveLength(333)
    expect((await budget.remaining('tenant')).epsilon).toBe(0.001)
  })

  // The attack: amounts that compare oddly (NaN is neither above nor below a limit, a negative
  // epsilon would refund a budget, Infinity or a string might slip through a check).
  it('refuses hostile amounts without charging anything', async () => {
    const budget = accountant(1, 1e-6)
    const hostile: [unknown, unknown][] = [
      [-0.5, 0],
      [0, 0],
      [-0, 0],
      [Number.NaN, 0],
      [Number.POSITIVE_INFINITY, 0],
      [Number.NEGATIVE_INFINITY, 0],
      ['0.5', 0],
      [0.5, -1e-7],
      [0.5, Number.NaN],
      [0.5, 1],
      [0.5, Number.POSITIVE_INFINITY],
      [0.5, '1e-7'],
    ]
    for (const [epsilon, delta] of hostile) {
      expect(await outcome(budget.charge('tenant', epsilon as number, delta as number))).toBe(
        'CONTINUUM_PRIVACY_INVALID_RELEASE',
      )
      // Laplace takes no delta: only a hostile epsilon concerns it.
      const requests = [{ mechanism: 'gaussian', epsilon, delta, sensitivity: 1 }]
      if (epsilon !== 0.5) requests.push({ mechanism: 'laplace', epsilon, delta: undefined, sensitivity: 1 })
      for (const request of requests) {
        expect(await outcome(budget.release('tenant', [1], request as never))).toBe(
          'CONTINUUM_PRIVACY_INVALID_RELEASE',
        )
      }
    }
    for (const sensitivity of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(
        await outcome(budget.release('tenant', [1], { mechanism: 'laplace', epsilon: 0.5, sensitivity })),
      ).toBe('CONTINUUM_PRIVACY_INVALID_RELEASE')
    }
    expect(await budget.remaining('tenant')).toMatchObject({ epsilon: 1, delta: 1e-6 })
  })

  it('refuses budgets beyond what the units hold exactly', () => {
    expect(() => accountant(1001)).toThrow(expect.objectContaining({ code: 'CONTINUUM_INVALID_OPTIONS' }))
    expect(() => accountant(1, 0.01)).toThrow(expect.objectContaining({ code: 'CONTINUUM_INVALID_OPTIONS' }))
  })
})

describe('exact accounting across instances on a Redis Cluster', () => {
  let cluster: RedisCluster
  let stores: StateStore[]

  beforeAll(async () => {
    cluster = await startRedisCluster()
    stores = await Promise.all(
      // A generous timeout: this is about exact counting; on a loaded machine 500 racing charges can
      // outlast the default, and a timed-out charge fails closed (refused), which would hide a count.
      [0, 1].map(() =>
        createRedisStateStore({
          connection: { cluster: { rootNodes: cluster.rootNodes } },
          timeoutMs: 10_000,
        }),
      ),
    )
  }, 60_000)

  afterAll(async () => {
    await Promise.all((stores ?? []).map((store) => store.close?.()))
    await cluster?.stop()
  })

  it('two instances racing 500 charges of 0.003 against a budget of 1 release exactly 333', async () => {
    const [one, two] = stores.map((store) => new PrivacyAccountant({ epsilon: 1, delta: 1e-6, store }))
    const identity = `tenant-${Date.now()}`
    const results = await Promise.all(
      Array.from({ length: 500 }, (_, index) =>
        outcome((index % 2 === 0 ? one! : two!).charge(identity, 0.003, 1e-9)),
      ),
    )
    expect(results.filter((result) => result === 'released')).toHaveLength(333)
    expect(await two!.remaining(identity)).toMatchObject({ epsilon: 0.001, delta: 6.67e-7 })
  }, 60_000)

  // The attack: a caller who picks its own identity shapes it like the counters' keys (a closing
  // brace ends the Redis Cluster hash tag early, a colon looks like the period separator, a
  // suffix like another counter's) to land on someone else's counter or to split one charge's two
  // counters over two slots (every charge would then fail).
  it('keeps identities shaped like the counter keys apart, each charge on one slot', async () => {
    const accountant = new PrivacyAccountant({ epsilon: 1, delta: 1e-6, store: stores[0]! })
    const victim = `victim-${Date.now()}`
    const hostile = [
      `${victim}}`,
      `{${victim}}`,
      `${victim}}:epsilon:1e-12`,
      `${victim}}:delta:1e-18`,
      `0:${victim}`,
      `}${victim}{`,
      `${victim}:`,
    ]
    for (const identity of hostile) {
      expect(await outcome(accountant.charge(identity, 1, 1e-6))).toBe('released')
      expect(await outcome(accountant.charge(identity, 1e-12))).toBe('CONTINUUM_PRIVACY_BUDGET_EXHAUSTED')
    }
    expect(await accountant.remaining(victim)).toMatchObject({ epsilon: 1, delta: 1e-6 })
  })

  it('reports the budget a refusal leaves exactly, however many digits the spent total has', async () => {
    const accountant = new PrivacyAccountant({ epsilon: 1000, store: stores[1]! })
    const identity = `digits-${Date.now()}`
    // 123456789012345 units: more significant digits than Lua prints a number with.
    await accountant.charge(identity, 123.456789012345)
    const refusal = await accountant.charge(identity, 900).catch((error: ContinuumError) => error)
    expect(refusal).toMatchObject({ code: 'CONTINUUM_PRIVACY_BUDGET_EXHAUSTED' })
    const left = await accountant.remaining(identity)
    expect(left.epsilon).toBe(876.543210987655)
    expect((refusal as ContinuumError).details).toMatchObject({ remainingEpsilon: left.epsilon })
  })
})
