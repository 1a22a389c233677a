/**
 * Helpers for the config factories (`adapters/<protocol>/provider-config.ts`) that build a
 * provider from a validated `ProviderConfig`: the shared fields map onto CommonProviderOptions,
 * type-specific `settings` are read by key, and construction errors are re-raised as
 * CONTINUUM_CONFIG_INVALID naming the config key. Secret values are never echoed.
 */
import type { Dispatcher } from 'undici'
import { ContinuumError } from '../errors'
import type { CommonProviderOptions } from './provider-options'
import type { ProviderConfig, ProviderFactoryContext, ProviderSettingSchema } from './provider-registry'

/** The options every provider shares, taken from a config entry and the factory context. */
export function commonOptionsFromConfig(
  config: ProviderConfig,
  context: ProviderFactoryContext,
): CommonProviderOptions {
  const options: CommonProviderOptions = {
    id: config.id,
    models: config.models,
    timeoutMs: config.timeoutMs,
    headers: config.headers,
    capabilities: config.capabilities,
  }
  const dispatcher = context.dispatcher as Dispatcher | undefined
  if (dispatcher !== undefined && typeof dispatcher.dispatch === 'function') options.dispatcher = dispatcher
  else if (context.fetch !== undefined) options.fetch = context.fetch
  return options
}

/**
 * The error of a bad setting of a provider's config entry: CONTINUUM_CONFIG_INVALID naming the
 * key as `inference.providers.<id>.<key>`, with `problem` saying what is wrong (never the value,
 * which may be a secret).
 */
export function settingError(config: ProviderConfig, key: string, problem: string): ContinuumError {
  const path = `inference.providers.${config.id}.${key}`
  return new ContinuumError('CONTINUUM_CONFIG_INVALID', `${path}: ${problem}`, { details: { key: path } })
}

/** A string setting; throws CONTINUUM_CONFIG_INVALID when required and absent, or not a string. */
export function stringSetting(config: ProviderConfig, key: string, required: true): string
export function stringSetting(config: ProviderConfig, key: string, required?: false): string | undefined
export function stringSetting(config: ProviderConfig, key: string, required = false): string | undefined {
  const value = config.settings[key]
  if (value === undefined || value === null) {
    if (required) throw settingError(config, key, 'is required')
    return undefined
  }
  if (typeof value !== 'string' || value === '') throw settingError(config, key, 'must be a non-empty string')
  return value
}

/**
 * The schema of a key {@link stringSetting} reads: a non-empty string. A provider type declares
 * its string keys with it, so the configuration check and the reader accept the same values.
 * @example defineProviderType({ type: 'acme', settings: { region: NON_EMPTY_STRING_SETTING }, create })
 */
export const NON_EMPTY_STRING_SETTING: ProviderSettingSchema = Object.freeze({
  type: 'string',
  minLength: 1,
  expect: 'a non-empty string',
})

/** A number setting; undefined when absent, CONTINUUM_CONFIG_INVALID when not a number. */
export function numberSetting(config: ProviderConfig, key: string): number | undefined {
  const value = config.settings[key]
  if (value === undefined) return undefined
  if (typeof value !== 'number') throw settingError(config, key, 'must be a number')
  return value
}

/** Runs a provider constructor, turning its CONTINUUM_INVALID_OPTIONS into CONTINUUM_CONFIG_INVALID. */
export function buildFromConfig<T>(config: ProviderConfig, build: () => T): T {
  try {
    return build()
  } catch (error) {
    if (ContinuumError.isInstance(error) && error.code === 'CONTINUUM_INVALID_OPTIONS') {
      const path = `inference.providers.${config.id}`
      throw new ContinuumError('CONTINUUM_CONFIG_INVALID', `${path}: ${error.message}`, {
        cause: error,
        details: { key: path },
      })
    }
    throw error
  }
}
