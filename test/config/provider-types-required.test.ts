/**
 * `loadRouterConfig` without `providerTypes` (a newcomer's first try, since the router's own entry
 * loads no provider): the refusal is coded and says where the built-in types come from.
 */
import { ContinuumError } from 'continuum-proxy'
import { loadRouterConfig } from 'continuum-proxy/router'
import { describe, expect, it } from 'vitest'

const CONFIG = {
  inference: { providers: { gpu: { type: 'vllm', endpoint: 'http://127.0.0.1:8000', models: ['*'] } } },
}

describe('loadRouterConfig without providerTypes', () => {
  it('refuses with CONTINUUM_INVALID_OPTIONS naming builtinProviderTypes and its entry', async () => {
    const refused = await loadRouterConfig(CONFIG, {} as never).catch((error: unknown) => error)
    expect(ContinuumError.isInstance(refused)).toBe(true)
    expect(refused).toMatchObject({ code: 'CONTINUUM_INVALID_OPTIONS' })
    expect((refused as Error).message).toContain('builtinProviderTypes()')
    expect((refused as Error).message).toContain('continuum-proxy/providers')
  })
})
