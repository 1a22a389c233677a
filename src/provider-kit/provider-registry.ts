/**
 * Builds provider instances from configuration through provider types: each protocol folder
 * declares its type (`adapters/<protocol>/provider/config.ts`: the name, the type-specific keys
 * its table may hold, the factory), so adding a provider touches one folder plus one
 * registration line, and the configuration's schema is built from what is registered. A
 * registry is a plain object per caller rather than a global, so tests and apps never share state.
 */
import type { Clock } from '../core/clock'
import type { Logger } from '../core/logger'
import { ContinuumError } from '../errors'
import { brand } from '../internal/brand'
import type { InferenceProvider, ProviderCapabilities } from './provider'

/**
 * One provider's validated, normalised configuration, as a factory receives it. Secret references
 * (`env:NAME`, `file:/path`) are already resolved: `apiKey` and string values in `settings` hold
 * the secret itself, so factories must never log this object.
 */
export interface ProviderConfig {
  /** The table name, e.g. `openai` in `[inference.providers.openai]`; the provider's `id`. */
  id: string
  /** The provider type, e.g. `openai`. */
  type: string
  /** Base URL of the API, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:8000`. */
  endpoint?: string
  /** The resolved API key or token. */
  apiKey?: string
  /** Provider-specific model names served; empty means whatever the provider offers. */
  models: string[]
  /** Per-attempt timeout in milliseconds the client should give its HTTP calls. */
  timeoutMs: number
  /** Extra HTTP headers to send on every call. */
  headers: Record<string, string>
  /** Capability overrides from config (cost, latency, context window, local) on top of the factory's defaults. */
  capabilities: Partial<ProviderCapabilities>
  /**
   * Type-specific keys exactly as written in the config table (snake_case), the ones the type
   * declares (e.g. `deployment`, `region`) and those of a `settings` table. Secret references
   * among them are resolved.
   */
  settings: Record<string, unknown>
}

/** Injected I/O a factory may use. */
export interface ProviderFactoryContext {
  /** A fetch implementation (undici's by default); tests pass one bound to a fake server. */
  fetch?: typeof fetch
  /** An undici Dispatcher to use for connection pooling, when the app supplies one. */
  dispatcher?: unknown
  clock: Clock
  logger: Logger
}

/** Builds a provider from its configuration. Throw CONTINUUM_CONFIG_INVALID naming the key for bad settings. */
export type ProviderFactory = (config: ProviderConfig, context: ProviderFactoryContext) => InferenceProvider

/** The JSON Schema of one type-specific setting, with the `expect` phrase errors quote. */
export interface ProviderSettingSchema {
  readonly type: 'string' | 'integer' | 'number' | 'boolean'
  /** How an error describes a valid value, e.g. `a non-empty string`. */
  readonly expect: string
  readonly [keyword: string]: unknown
}

/**
 * A provider type: its name in configuration (`type = "openai"`), the type-specific keys its
 * table may hold, and the factory that builds a provider from a validated config. Each protocol
 * folder declares its own; a registry of them is what the configuration accepts.
 */
export interface ProviderTypeDefinition {
  readonly type: string
  /**
   * Type-specific keys allowed at the top of the provider's table, by snake_case name.
   * @default {}
   */
  readonly settings: Readonly<Record<string, ProviderSettingSchema>>
  readonly create: ProviderFactory
}

const TYPE_NAME = /^[a-z][a-z0-9_]*$/

/** Declares a provider type; {@link ProviderRegistry} checks it once more on registration. */
export function defineProviderType(definition: {
  type: string
  settings?: Record<string, ProviderSettingSchema>
  create: ProviderFactory
}): ProviderTypeDefinition {
  return {
    type: definition.type,
    settings: Object.freeze({ ...(definition.settings ?? {}) }),
    create: definition.create,
  }
}

/** Provider types by name. */
export class ProviderRegistry {
  readonly #types = new Map<string, ProviderTypeDefinition>()

  constructor(types: readonly ProviderTypeDefinition[] = []) {
    for (const definition of types) this.register(definition)
  }

  /** Adds or replaces a provider type. */
  register(definition: ProviderTypeDefinition): this {
    if (typeof definition?.type !== 'string' || !TYPE_NAME.test(definition.type)) {
      throw new ContinuumError(
        'CONTINUUM_INVALID_OPTIONS',
        'ProviderRegistry: a type needs a snake_case name',
      )
    }
    if (typeof definition.create !== 'function') {
      throw new ContinuumError(
        'CONTINUUM_INVALID_OPTIONS',
        `ProviderRegistry: the "${definition.type}" type needs a create function`,
      )
    }
    this.#types.set(definition.type, definition)
    return this
  }

  /** Whether a type is registered. */
  has(type: string): boolean {
    return this.#types.has(type)
  }

  /** The registered type names. */
  types(): string[] {
    return [...this.#types.keys()]
  }

  /** The definition of a type, when registered. */
  get(type: string): ProviderTypeDefinition | undefined {
    return this.#types.get(type)
  }

  /** Builds one provider; fails with CONTINUUM_CONFIG_INVALID when no type of that name is registered. */
  create(config: ProviderConfig, context: ProviderFactoryContext): InferenceProvider {
    const definition = this.#types.get(config.type)
    if (definition === undefined) {
      throw new ContinuumError(
        'CONTINUUM_CONFIG_INVALID',
        `inference.providers.${config.id}.type: no provider type "${config.type}" is registered`,
        { details: { key: `inference.providers.${config.id}.type` } },
      )
    }
    const provider = definition.create(config, context)
    if (provider?.specificationVersion !== 'v1' || provider.id !== config.id) {
      throw new ContinuumError(
        'CONTINUUM_CONFIG_INVALID',
        `inference.providers.${config.id}: the "${config.type}" factory must return a v1 provider with id "${config.id}"`,
        { details: { key: `inference.providers.${config.id}` } },
      )
    }
    return provider
  }
}

brand(ProviderRegistry.prototype, 'ProviderRegistry')
