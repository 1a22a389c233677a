/**
 * `loadOnce`, the adapter kit's memoised loader (the built-in adapters load their model-text
 * readers with it): a burst of first calls loads once, later calls reuse the result, and a load
 * that failed is tried again instead of failing every later request with the first error.
 */
import { loadOnce } from 'continuum-proxy/adapter-kit'
import { describe, expect, it } from 'vitest'

describe('loadOnce', () => {
  it('loads once for a burst of first calls and reuses the result', async () => {
    let loads = 0
    const load = loadOnce(async () => {
      loads++
      await new Promise((resolve) => setTimeout(resolve, 5))
      return { value: loads }
    })
    const burst = await Promise.all(Array.from({ length: 50 }, () => load()))
    expect(loads).toBe(1)
    expect(new Set(burst).size).toBe(1)
    expect(await load()).toBe(burst[0])
    expect(loads).toBe(1)
  })

  it('tries again after a failed load, and shares the failure with its own burst only', async () => {
    let loads = 0
    const load = loadOnce(async () => {
      loads++
      if (loads === 1) throw new Error('module not reachable')
      return 'loaded'
    })
    const first = await Promise.allSettled([load(), load()])
    expect(first.map((result) => result.status)).toEqual(['rejected', 'rejected'])
    expect(loads).toBe(1)
    expect(await load()).toBe('loaded')
    expect(await load()).toBe('loaded')
    expect(loads).toBe(2)
  })

  it('turns a loader that throws synchronously into a rejection, and refuses a non-function', async () => {
    const load = loadOnce((): Promise<number> => {
      throw new Error('sync failure')
    })
    await expect(load()).rejects.toThrow('sync failure')
    expect(() => loadOnce(undefined as unknown as () => Promise<number>)).toThrow(TypeError)
  })
})
