/**
 * The provider kit's setting readers: `numberSetting` for numeric keys of a provider's table, and
 * `NON_EMPTY_STRING_SETTING`, the schema that makes the configuration check refuse what
 * `stringSetting` would refuse, so an empty string fails at load time naming its key.
 */
import { ContinuumError } from 'continuum-proxy'
import {
  commonOptionsFromConfig,
  defineProviderType,
  NON_EMPTY_STRING_SETTING,
  numberSetting,
  type ProviderConfig,
  ProviderRegistry,
  stringSetting,
} from 'continuum-proxy/provider-kit'
import { ollama } from 'continuum-proxy/providers'
import { loadRouterConfig } from 'continuum-proxy/router'
import { describe, expect, it } from 'vitest'

function configWith(settings: Record<string, unknown>): ProviderConfig {
  return {
    id: 'acme',
    type: 'acme',
    models: ['*'],
    timeoutMs: 1_000,
    headers: {},
    capabilities: {},
    settings,
  }
}

describe('numberSetting', () => {
  it('reads a number, is undefined when absent, and refuses anything else naming the key', () => {
    expect(numberSetting(configWith({ cooldown_ms: 250 }), 'cooldown_ms')).toBe(250)
    expect(numberSetting(configWith({}), 'cooldown_ms')).toBeUndefined()
    const refused = (() => {
      try {
        return numberSetting(configWith({ cooldown_ms: '250' }), 'cooldown_ms')
      } catch (error) {
        return error
      }
    })()
    expect(ContinuumError.isInstance(refused)).toBe(true)
    expect(refused).toMatchObject({
      code: 'CONTINUUM_CONFIG_INVALID',
      details: { key: 'inference.providers.acme.cooldown_ms' },
    })
    expect((refused as Error).message).not.toContain('250')
  })
})

describe('NON_EMPTY_STRING_SETTING', () => {
  const seen: Array<string | undefined> = []
  const acme = defineProviderType({
    type: 'acme',
    settings: { region: NON_EMPTY_STRING_SETTING },
    create: (config, context) => {
      seen.push(stringSetting(config, 'region'))
      // Any provider will do: the test is about what reaches the factory.
      return ollama(commonOptionsFromConfig(config, context))
    },
  })
  const inference = (region: unknown) => ({
    inference: { providers: { acme: { type: 'acme', models: ['*'], region } } },
  })

  it('lets a non-empty string through to stringSetting', async () => {
    const options = await loadRouterConfig(inference('eu-west-1'), {
      providerTypes: new ProviderRegistry([acme]),
      env: {},
    })
    expect(options.providers).toHaveLength(1)
    expect(seen.at(-1)).toBe('eu-west-1')
    await Promise.all(options.providers.map((provider) => provider.close?.()))
  })

  it('refuses an empty string when the configuration loads, naming the key', async () => {
    const refused = await loadRouterConfig(inference(''), {
      providerTypes: new ProviderRegistry([acme]),
      env: {},
    }).catch((error: unknown) => error)
    expect(refused).toMatchObject({ code: 'CONTINUUM_CONFIG_INVALID' })
    expect((refused as Error).message).toContain('region')
    expect((refused as Error).message).toContain('a non-empty string')
  })
})
