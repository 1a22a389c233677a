import type { ContinuumError } from 'continuum-proxy'
import { MemoryStateStore } from 'continuum-proxy'
import {
  cryptoUniform,
  gaussianNoise,
  gaussianSigma,
  laplaceNoise,
  PrivacyAccountant,
  privacyBudgetHeader,
  seededUniform,
} from 'continuum-proxy/privacy'
import { describe, expect, it } from 'vitest'

const moments = (draws: number[]) => {
  const mean = draws.reduce((sum, value) => sum + value, 0) / draws.length
  const variance = draws.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (draws.length - 1)
  return { mean, variance }
}

describe('noise mechanisms', () => {
  it('Laplace draws have mean 0 and variance 2b²', () => {
    const random = seededUniform(7)
    const { mean, variance } = moments(Array.from({ length: 200_000 }, () => laplaceNoise(2, random)))
    expect(Math.abs(mean)).toBeLessThan(0.03)
    expect(variance).toBeGreaterThan(8 * 0.97)
    expect(variance).toBeLessThan(8 * 1.03)
  })

  it('Gaussian draws have mean 0 and variance sigma², also from the crypto source', () => {
    for (const random of [seededUniform(11), cryptoUniform()]) {
      const { mean, variance } = moments(Array.from({ length: 200_000 }, () => gaussianNoise(3, random)))
      expect(Math.abs(mean)).toBeLessThan(0.04)
      expect(variance).toBeGreaterThan(9 * 0.97)
      expect(variance).toBeLessThan(9 * 1.03)
    }
  })

  it('crypto uniforms lie in [0, 1) with mean 1/2', () => {
    const random = cryptoUniform()
    const draws = Array.from({ length: 50_000 }, random)
    expect(draws.every((value) => value >= 0 && value < 1)).toBe(true)
    expect(Math.abs(moments(draws).mean - 0.5)).toBeLessThan(0.01)
  })

  it('calibrates the Gaussian sigma and refuses invalid parameters', () => {
    expect(gaussianSigma(1, 0.5, 1e-5)).toBeCloseTo(Math.sqrt(2 * Math.log(1.25e5)) / 0.5, 10)
    expect(() => gaussianSigma(1, 2, 1e-5)).toThrow(/epsilon/)
  })
})

describe('PrivacyAccountant', () => {
  it('charges releases by basic composition, refuses with 429 and refills each period', async () => {
    let now = 1_000_000
    const accountant = new PrivacyAccountant({
      epsilon: 1,
      delta: 1e-5,
      refillPeriodMs: 60_000,
      clock: { now: () => now },
      random: seededUniform(3),
      store: new MemoryStateStore(),
    })
    const first = await accountant.release('tenant-a', [10, 20], {
      mechanism: 'laplace',
      epsilon: 0.3,
      sensitivity: 1,
    })
    expect(first.values).toHaveLength(2)
    expect(first.values[0]).not.toBe(10)
    expect(first.budget.epsilon).toBeCloseTo(0.7, 9)
    expect(privacyBudgetHeader(first.budget)).toBe('epsilon=0.7;delta=0.00001')
    const second = await accountant.release('tenant-a', [1], {
      mechanism: 'gaussian',
      epsilon: 0.5,
      delta: 4e-6,
      sensitivity: 1,
    })
    expect(second.budget.epsilon).toBeCloseTo(0.2, 9)
    expect(second.budget.delta).toBeCloseTo(6e-6, 15)

    let refused: ContinuumError | undefined
    try {
      await accountant.release('tenant-a', [1], { mechanism: 'laplace', epsilon: 0.25, sensitivity: 1 })
    } catch (error) {
      refused = error as ContinuumError
    }
    expect(refused?.code).toBe('CONTINUUM_PRIVACY_BUDGET_EXHAUSTED')
    expect(refused?.status).toBe(429)
    expect(refused?.details).toMatchObject({ remainingEpsilon: expect.closeTo(0.2, 9) })
    expect(refused?.retryAfterSeconds).toBeGreaterThan(0)
    // The refused release was not charged, and other identities are independent.
    expect((await accountant.remaining('tenant-a')).epsilon).toBeCloseTo(0.2, 9)
    expect((await accountant.remaining('tenant-b')).epsilon).toBe(1)
    now += 60_000
    expect((await accountant.remaining('tenant-a')).epsilon).toBe(1)
  })

  it('never overspends under concurrent charges', async () => {
    const accountant = new PrivacyAccountant({ epsilon: 1, random: seededUniform(1) })
    const results = await Promise.allSettled(
      Array.from({ length: 25 }, () => accountant.charge('tenant', 0.1)),
    )
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(10)
    expect((await accountant.remaining('tenant')).epsilon).toBeCloseTo(0, 9)
  })

  it('refuses invalid options and releases with codes', async () => {
    expect(() => new PrivacyAccountant({ epsilon: -1 })).toThrow(
      expect.objectContaining({ code: 'CONTINUUM_INVALID_OPTIONS' }),
    )
    // A brace in the prefix could change the counters' Redis Cluster hash tag (`p{}` empties it).
    for (const keyPrefix of ['p{}', 'p{', 'privacy}:'])
      expect(() => new PrivacyAccountant({ epsilon: 1, keyPrefix })).toThrow(
        expect.objectContaining({
          code: 'CONTINUUM_INVALID_OPTIONS',
          message: expect.stringContaining('keyPrefix'),
        }),
      )
    expect(() => new PrivacyAccountant({ epsilon: 1, keyPrefix: 'tenant-a:privacy:' })).not.toThrow()
    const accountant = new PrivacyAccountant({ epsilon: 1 })
    await expect(
      accountant.release('x', [1], { mechanism: 'laplace', epsilon: 0, sensitivity: 1 }),
    ).rejects.toMatchObject({
      code: 'CONTINUUM_PRIVACY_INVALID_RELEASE',
    })
  })
})
