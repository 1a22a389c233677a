/**
 * Builds provider instances from configuration through factories keyed by `type`. Provider
 * authors export a factory next to their client (`adapters/<protocol>/provider.ts`) and the
 * package registers it here, so adding a provider touches one folder plus one registration line.
 * A registry is a plain object per caller rather than a global, so tests and apps never share state.
 */
import type { Clock } from '../core/clock'
import type { Logger } from '../core/logger'
import { ContinuumError } from '../errors'
import type { InferenceProvider, ProviderCapabilities } from './provider'

/** The provider types the configuration knows about. */
export const PROVIDER_TYPES = [
  'openai',
  'azure_openai',
  'anthropic',
  'bedrock',
  'vertex',
  'vllm',
  'tgi',
  'ollama',
  'openai_compatible',
] as const

/** A provider type name, as in `[inference.providers.<name>] type = "..."`. */
export type ProviderType = (typeof PROVIDER_TYPES)[number]

/**
 * One provider's validated, normalised configuration, as a factory receives it. Secret references
 * (`env:NAME`, `file:/path`) are already resolved: `apiKey` and string values in `settings` hold
 * the secret itself, so factories must never log this object.
 */
export interface ProviderConfig {
  /** The table name, e.g. `openai` in `[inference.providers.openai]`; the provider's `id`. */
  id: string
  type: ProviderType
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
   * Type-specific keys exactly as written in the config table (snake_case), e.g. `deployment`,
   * `api_version`, `region`, `project`, `location`, `access_key_id`, `secret_access_key`.
   * Secret references among them are resolved.
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

/** Factories by provider type. */
export class ProviderRegistry {
  readonly #factories = new Map<string, ProviderFactory>()

  constructor(factories: Partial<Record<ProviderType, ProviderFactory>> = {}) {
    for (const [type, factory] of Object.entries(factories)) {
      if (factory !== undefined) this.register(type as ProviderType, factory)
    }
  }

  /** Adds or replaces the factory of a type. */
  register(type: ProviderType, factory: ProviderFactory): this {
    if (!(PROVIDER_TYPES as readonly string[]).includes(type)) {
      throw new ContinuumError(
        'CONTINUUM_INVALID_OPTIONS',
        `ProviderRegistry: unknown provider type "${type}"`,
      )
    }
    if (typeof factory !== 'function') {
      throw new ContinuumError(
        'CONTINUUM_INVALID_OPTIONS',
        `ProviderRegistry: factory for "${type}" must be a function`,
      )
    }
    this.#factories.set(type, factory)
    return this
  }

  /** Whether a factory is registered for a type. */
  has(type: string): boolean {
    return this.#factories.has(type)
  }

  /** The registered types. */
  types(): string[] {
    return [...this.#factories.keys()]
  }

  /** Builds one provider; fails with CONTINUUM_CONFIG_INVALID when no factory serves its type. */
  create(config: ProviderConfig, context: ProviderFactoryContext): InferenceProvider {
    const factory = this.#factories.get(config.type)
    if (factory === undefined) {
      throw new ContinuumError(
        'CONTINUUM_CONFIG_INVALID',
        `inference.providers.${config.id}.type: no provider factory is registered for "${config.type}"`,
        { details: { key: `inference.providers.${config.id}.type` } },
      )
    }
    const provider = factory(config, context)
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
