/**
 * Privacy budgets shared on real Redis (standalone and a 3-master cluster): many concurrent
 * releases from three accountants, each on its own connection as three instances would be, spend
 * one budget exactly (the check and the charge are one script, both counters on one slot). A
 * period's counters outlive the period on every instance whose clock lags the one that created
 * them, so a skewed instance never sees a spent budget as fresh. With Redis gone a release fails
 * closed with a coded, retryable 503 and the failure is counted; nothing is released unaccounted.
 */
import { randomUUID } from 'node:crypto'
import { PrivacyAccountant } from 'continuum-proxy/privacy'
import { createRedisStateStore } from 'continuum-proxy/redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRedis } from '../support/redis-servers'
import { type SharedBackends, startBackends, storeFailures, type Topology } from './support/shared-stores'

let backends: SharedBackends

beforeAll(async () => {
  backends = await startBackends()
}, 60_000)

afterAll(async () => {
  await backends?.stop()
})

describe.each(['standalone', 'cluster'] as Topology[])('privacy budgets shared on %s Redis', (topology) => {
  it('spends one budget across instances under concurrency, never twice', async () => {
    const accountants = (await backends.open(topology, 3)).map(
      (store) => new PrivacyAccountant({ epsilon: 1, delta: 1e-6, store }),
    )
    const identity = `tenant-${randomUUID()}`
    const outcomes = await Promise.allSettled(
      Array.from({ length: 30 }, (_, index) =>
        accountants[index % 3]!.release(identity, [1], {
          mechanism: 'gaussian',
          epsilon: 0.1,
          delta: 1e-7,
          sensitivity: 1,
        }),
      ),
    )
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(10)
    for (const outcome of outcomes.filter((candidate) => candidate.status === 'rejected')) {
      expect((outcome as PromiseRejectedResult).reason).toMatchObject({
        code: 'CONTINUUM_PRIVACY_BUDGET_EXHAUSTED',
        status: 429,
      })
    }
    for (const accountant of accountants) {
      const left = await accountant.remaining(identity)
      expect(left.epsilon).toBe(0)
      expect(left.delta).toBeCloseTo(0, 12)
    }
  })
})

describe('privacy budgets across instances whose clocks disagree', () => {
  it('keeps a spent budget spent on an instance a few seconds behind the one that charged it', async () => {
    const period = 60_000
    const boundary = Math.ceil(Date.now() / period) * period
    // Instance A's clock is 3 s ahead of B's; by both clocks it is still the same period.
    const clockA = { time: boundary - 1, now: () => clockA.time }
    const clockB = { time: boundary - 3_001, now: () => clockB.time }
    const [storeA, storeB] = await backends.open('standalone', 2)
    const [accountantA, accountantB] = [
      new PrivacyAccountant({ epsilon: 1, refillPeriodMs: period, store: storeA!, clock: clockA }),
      new PrivacyAccountant({ epsilon: 1, refillPeriodMs: period, store: storeB!, clock: clockB }),
    ]
    const identity = `tenant-${randomUUID()}`
    // The attacker spends the whole budget through A, at the end of the period by A's clock.
    await accountantA!.charge(identity, 1)
    await expect(accountantB!.charge(identity, 0.5)).rejects.toMatchObject({
      code: 'CONTINUUM_PRIVACY_BUDGET_EXHAUSTED',
    })
    // Then waits a moment and asks B, whose clock still reads the same period.
    const waited = 1_500
    await new Promise((resolve) => setTimeout(resolve, waited))
    clockB.time += waited
    expect(Math.floor(clockB.now() / period)).toBe(Math.floor(clockA.now() / period))
    await expect(accountantB!.charge(identity, 1)).rejects.toMatchObject({
      code: 'CONTINUUM_PRIVACY_BUDGET_EXHAUSTED',
      status: 429,
    })
    expect((await accountantB!.remaining(identity)).epsilon).toBe(0)
  })
})

describe('privacy budgets when Redis is gone', () => {
  it('refuse releases with a coded 503 and count the failure', async () => {
    const server = await startRedis()
    const store = await createRedisStateStore({ connection: { url: server.url }, timeoutMs: 200 })
    const accountant = new PrivacyAccountant({ epsilon: 1, store })
    await accountant.charge('tenant', 0.1)
    await server.kill()
    const { events } = await storeFailures(async () => {
      await expect(
        accountant.release('tenant', [1], { mechanism: 'laplace', epsilon: 0.1, sensitivity: 1 }),
      ).rejects.toMatchObject({
        code: 'CONTINUUM_STORE_UNAVAILABLE',
        status: 503,
        isRetryable: true,
      })
    })
    expect(events).toContainEqual(expect.objectContaining({ consumer: 'privacy', decision: 'closed' }))
    await store.close()
    await server.stop()
  })
})
