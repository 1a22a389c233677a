/**
 * Loads the router configuration from a TOML or JSON file or a plain object: validates it with
 * ajv (errors name the offending key and why), resolves secret references, builds providers
 * through the factory registry, wraps those that declare model manifests, and returns
 * RouterOptions ready for `new InferenceRouter()`. Provider configs hold resolved secrets, so they
 * are handed to factories and never returned, logged or put in an error.
 */
import { readFile as readFileFromDisk } from 'node:fs/promises'
import { Ajv } from 'ajv'
import type { Clock } from '../../core/clock'
import { systemClock } from '../../core/clock'
import type { Logger } from '../../core/logger'
import { silentLogger } from '../../core/logger'
import { ContinuumError } from '../../errors'
import { hasBrand } from '../../internal/brand'
import type { InferenceProvider, ProviderCapabilities } from '../../provider-kit/provider'
import {
  type ProviderConfig,
  ProviderRegistry,
  type ProviderTypeDefinition,
} from '../../provider-kit/provider-registry'
import type { ModelManifest } from '../model-integrity'
import type { RouterOptions, RoutingPolicy } from '../options'
import type { ProviderLimits } from '../provider-limiter'
import { ANY_MODEL } from '../routing-plan'
import { withModelIntegrity } from '../verified-provider'
import { configError, describeSchemaError, readConfigDocument } from './config-document'
import { COMMON_PROVIDER_KEYS, routerConfigSchema } from './router-config-schema'
import { resolveSecret, type SecretSources } from './secrets'

/** Options of {@link loadRouterConfig}. */
export interface LoadRouterConfigOptions {
  /** Environment for `env:` references. @default process.env */
  env?: Readonly<Record<string, string | undefined>>
  /** Reads the config file, `file:` references and manifests. @default fs.promises.readFile (utf8) */
  readFile?: (path: string) => Promise<string>
  /**
   * The provider types the configuration may name: a registry, or a list of type definitions.
   * Required: the router does not load the built-in providers itself; pass
   * `builtinProviderTypes()` from `continuum-proxy/providers` for all of them, or a few (e.g.
   * `[vllmProviderType, openaiProviderType]`).
   */
  providerTypes: ProviderRegistry | readonly ProviderTypeDefinition[]
  /** Passed to factories. */
  fetch?: typeof fetch
  /** Passed to factories and the router. @default systemClock */
  clock?: Clock
  /** Passed to factories and the router. @default silentLogger */
  logger?: Logger
  /** Router options that have no config form (classifier, store, onEvent, random, ...), merged in. */
  router?: Omit<Partial<RouterOptions>, 'providers'>
}

type Table = Record<string, unknown>

const ajv = new Ajv({ allErrors: false, verbose: true, strict: true })
ajv.addKeyword({ keyword: 'expect', schemaType: 'string' })
/** One compiled validator per registry: the schema is built from the registered types. */
const validators = new WeakMap<ProviderRegistry, ReturnType<typeof ajv.compile>>()

function validatorOf(registry: ProviderRegistry): ReturnType<typeof ajv.compile> {
  let validate = validators.get(registry)
  if (validate === undefined) {
    validate = ajv.compile(routerConfigSchema(registry))
    validators.set(registry, validate)
  }
  return validate
}

/** A provider table may hold only the common keys and its own type's. */
function checkTypeKeys(id: string, table: Table, registry: ProviderRegistry): void {
  const settings = registry.get(table.type as string)?.settings ?? {}
  for (const key of Object.keys(table)) {
    if (COMMON_PROVIDER_KEYS.has(key) || Object.hasOwn(settings, key)) continue
    throw configError(`inference.providers.${id}.${key}`, `is not a key of type "${String(table.type)}"`)
  }
}

function policyFrom(inference: Table): RoutingPolicy {
  const type = (inference.routing_policy as RoutingPolicy['type'] | undefined) ?? 'cloud_first'
  const fallbackToLocal = inference.fallback_to_local as boolean | undefined
  const optional = <T>(name: string, value: T | undefined) => (value === undefined ? {} : { [name]: value })
  switch (type) {
    case 'cloud_first':
      return { type, ...optional('fallbackToLocal', fallbackToLocal) }
    case 'classification_based': {
      const security = (inference.security as Table | undefined) ?? {}
      return {
        type,
        ...optional('fallbackToLocal', fallbackToLocal),
        ...optional('localFor', security.local_classifications),
      } as RoutingPolicy
    }
    case 'cost_optimized':
      return { type, ...optional('maxCostPerMillion', inference.max_cost_per_million as number | undefined) }
    case 'latency_optimized':
      return { type, ...optional('maxLatencyMs', inference.max_latency_ms as number | undefined) }
    case 'weighted':
      return { type, weights: (inference.weights as Record<string, number> | undefined) ?? {} }
    case 'fallback_chain': {
      const chain = inference.fallback_chain as string[] | undefined
      if (chain === undefined)
        throw configError('inference.fallback_chain', 'is required by routing_policy fallback_chain')
      return {
        type,
        chain,
        ...optional('byModel', inference.fallback_chains as Record<string, string[]> | undefined),
      }
    }
    default:
      return { type } as RoutingPolicy
  }
}

async function resolveStrings(value: unknown, key: string, sources: SecretSources): Promise<unknown> {
  if (typeof value === 'string') return resolveSecret(value, key, sources)
  if (Array.isArray(value))
    return Promise.all(value.map((item, index) => resolveStrings(item, `${key}[${index}]`, sources)))
  if (typeof value === 'object' && value !== null) {
    const entries = await Promise.all(
      Object.entries(value).map(async ([name, inner]) => [
        name,
        await resolveStrings(inner, `${key}.${name}`, sources),
      ]),
    )
    return Object.fromEntries(entries)
  }
  return value
}

async function providerConfigFrom(
  id: string,
  table: Table,
  sources: SecretSources,
  registry: ProviderRegistry,
): Promise<ProviderConfig> {
  const key = `inference.providers.${id}`
  const resolved = (await resolveStrings({ ...table, integrity: undefined }, key, sources)) as Table
  const capabilities: Partial<ProviderCapabilities> = {}
  if (resolved.local !== undefined) capabilities.local = resolved.local as boolean
  for (const flag of ['streaming', 'tools', 'vision', 'embeddings'] as const) {
    if (resolved[flag] !== undefined) capabilities[flag] = resolved[flag] as boolean
  }
  if (resolved.context_window !== undefined) capabilities.contextWindow = resolved.context_window as number
  if (resolved.cost_per_million_input !== undefined || resolved.cost_per_million_output !== undefined) {
    capabilities.costPerMillion = {
      input: (resolved.cost_per_million_input as number | undefined) ?? 0,
      output: (resolved.cost_per_million_output as number | undefined) ?? 0,
    }
  }
  if (resolved.latency_p50_ms !== undefined || resolved.latency_p99_ms !== undefined) {
    const p50 = (resolved.latency_p50_ms as number | undefined) ?? (resolved.latency_p99_ms as number)
    const p99 = (resolved.latency_p99_ms as number | undefined) ?? p50
    if (p99 < p50) throw configError(`${key}.latency_p99_ms`, 'must not be below latency_p50_ms')
    capabilities.latencyMs = { p50, p99 }
  }
  const models = resolved.models as string[] | undefined
  if (models !== undefined) {
    if (models.includes(ANY_MODEL) && models.length > 1) {
      throw configError(`${key}.models`, `"${ANY_MODEL}" (any model) must be the only entry`)
    }
    capabilities.models = models
  }
  const settings: Table = { ...((resolved.settings as Table | undefined) ?? {}) }
  for (const name of Object.keys(registry.get(resolved.type as string)?.settings ?? {})) {
    if (resolved[name] !== undefined) settings[name] = resolved[name]
  }
  return {
    id,
    type: resolved.type as string,
    ...(resolved.endpoint === undefined ? {} : { endpoint: resolved.endpoint as string }),
    ...(resolved.api_key === undefined ? {} : { apiKey: resolved.api_key as string }),
    models: (resolved.models as string[] | undefined) ?? [],
    timeoutMs: (resolved.timeout_ms as number | undefined) ?? 60_000,
    headers: (resolved.headers as Record<string, string> | undefined) ?? {},
    capabilities,
    settings,
  }
}

/** Applies config capability overrides on top of what the factory's provider declares. */
function withCapabilities(
  provider: InferenceProvider,
  overrides: Partial<ProviderCapabilities>,
): InferenceProvider {
  if (Object.keys(overrides).length === 0) return provider
  const capabilities = { ...provider.capabilities, ...overrides }
  // Methods are bound to the original object so providers with private fields keep working.
  return new Proxy(provider, {
    get: (target, property) => {
      if (property === 'capabilities') return capabilities
      const value = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

async function withIntegrity(
  provider: InferenceProvider,
  id: string,
  integrity: Table,
  sources: SecretSources,
): Promise<InferenceProvider> {
  const key = `inference.providers.${id}.integrity`
  const publicKey = await resolveSecret(integrity.public_key as string, `${key}.public_key`, sources)
  const models: Record<string, { folder: string; manifest: ModelManifest; publicKey: string }> = {}
  for (const [model, entry] of Object.entries(
    integrity.models as Record<string, { folder: string; manifest: string }>,
  )) {
    let manifest: ModelManifest
    try {
      manifest = JSON.parse(await sources.readFile(entry.manifest)) as ModelManifest
    } catch (cause) {
      throw configError(`${key}.models.${model}.manifest`, 'could not be read as a JSON manifest', cause)
    }
    models[model] = { folder: entry.folder, manifest, publicKey }
  }
  return withModelIntegrity(provider, {
    models,
    ...(integrity.require_manifest === undefined
      ? {}
      : { requireManifest: integrity.require_manifest as boolean }),
  })
}

/**
 * Loads and validates a router configuration.
 * @example
 * const options = await loadRouterConfig('/etc/continuum/router.toml', { providerTypes })
 * const router = new InferenceRouter(options)
 */
export async function loadRouterConfig(
  source: string | Record<string, unknown>,
  options: LoadRouterConfigOptions,
): Promise<RouterOptions> {
  const sources: SecretSources = {
    env: options.env ?? process.env,
    readFile: options.readFile ?? ((path) => readFileFromDisk(path, 'utf8')),
  }
  const types = options.providerTypes
  const registry = hasBrand(types, 'ProviderRegistry')
    ? (types as ProviderRegistry)
    : Array.isArray(types)
      ? new ProviderRegistry(types)
      : (() => {
          throw new ContinuumError(
            'CONTINUUM_INVALID_OPTIONS',
            'loadRouterConfig: providerTypes must be a ProviderRegistry or a list of provider types, e.g. { providerTypes: builtinProviderTypes() } with builtinProviderTypes from continuum-proxy/providers',
          )
        })()
  const validate = validatorOf(registry)
  const document = typeof source === 'string' ? await readConfigDocument(source, sources.readFile) : source
  if (!validate(document))
    throw describeSchemaError(validate.errors![0]!, { badName: 'provider names use letters, digits, _ . -' })
  const inference = (document as { inference: Table }).inference
  const providerTables = inference.providers as Record<string, Table>
  for (const [id, table] of Object.entries(providerTables)) checkTypeKeys(id, table, registry)
  const ids = new Set(Object.keys(providerTables))
  const checkIds = (list: readonly string[], key: string): void => {
    for (const id of list) if (!ids.has(id)) throw configError(key, `names unknown provider "${id}"`)
  }
  if (inference.fallback_chain !== undefined)
    checkIds(inference.fallback_chain as string[], 'inference.fallback_chain')
  for (const [model, chain] of Object.entries(
    (inference.fallback_chains as Record<string, string[]>) ?? {},
  )) {
    checkIds(chain, `inference.fallback_chains.${model}`)
  }
  checkIds(Object.keys((inference.weights as Table | undefined) ?? {}), 'inference.weights')
  for (const [model, mapping] of Object.entries((inference.aliases as Record<string, Table>) ?? {})) {
    checkIds(Object.keys(mapping), `inference.aliases.${model}`)
  }

  const policy = policyFrom(inference)
  const clock = options.clock ?? systemClock
  const logger = options.logger ?? silentLogger
  const providers: InferenceProvider[] = []
  const rateLimits: Record<string, ProviderLimits> = {}
  for (const [id, table] of Object.entries(providerTables)) {
    const config = await providerConfigFrom(id, table, sources, registry)
    let provider = withCapabilities(
      registry.create(config, {
        clock,
        logger,
        ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
      }),
      config.capabilities,
    )
    if (table.integrity !== undefined)
      provider = await withIntegrity(provider, id, table.integrity as Table, sources)
    // A provider serves what it lists ("*" for anything); one that lists nothing is reached through aliases only.
    const aliased = Object.values((inference.aliases as Record<string, Table>) ?? {}).some((mapping) =>
      Object.hasOwn(mapping, id),
    )
    if (provider.capabilities.models.length === 0 && !aliased) {
      throw configError(
        `inference.providers.${id}.models`,
        `is required: list the models it serves, or "${ANY_MODEL}" for any, or map an alias to it`,
      )
    }
    providers.push(provider)
    const limits: ProviderLimits = {}
    if (table.requests_per_minute !== undefined)
      limits.requestsPerMinute = table.requests_per_minute as number
    if (table.tokens_per_minute !== undefined) limits.tokensPerMinute = table.tokens_per_minute as number
    if (table.max_concurrency !== undefined) limits.maxConcurrency = table.max_concurrency as number
    if (Object.keys(limits).length > 0) rateLimits[id] = limits
  }

  const retry = (inference.retry as Table | undefined) ?? {}
  const breaker = (inference.breaker as Table | undefined) ?? {}
  const timeouts = (inference.timeouts as Table | undefined) ?? {}
  const defined = <T extends Table>(value: T): T =>
    Object.fromEntries(Object.entries(value).filter(([, inner]) => inner !== undefined)) as T
  return {
    // An unknown model is a 404 unless a provider declares models = ["*"].
    requireDeclaredModels: true,
    ...options.router,
    providers,
    policy,
    aliases: (inference.aliases as Record<string, Record<string, string>> | undefined) ?? {},
    rateLimits,
    retry: defined({
      maxRetries: retry.max_retries as number | undefined,
      baseDelayMs: retry.base_delay_ms as number | undefined,
      maxDelayMs: retry.max_delay_ms as number | undefined,
      maxRetryAfterMs: retry.max_retry_after_ms as number | undefined,
    }),
    breaker: defined({
      failureThreshold: breaker.failure_threshold as number | undefined,
      failureRateThreshold: breaker.failure_rate as number | undefined,
      minimumRequests: breaker.minimum_requests as number | undefined,
      windowMs: breaker.window_ms as number | undefined,
      cooldownMs: breaker.cooldown_ms as number | undefined,
      halfOpenProbes: breaker.half_open_probes as number | undefined,
      countTimeouts: breaker.count_timeouts as 'unresponsive' | 'always' | undefined,
    }),
    timeouts: defined({
      attemptMs: timeouts.attempt_ms as number | undefined,
      totalMs: timeouts.total_ms as number | undefined,
      streamIdleMs: timeouts.stream_idle_ms as number | undefined,
      healthMs: timeouts.health_ms as number | undefined,
    }),
    clock,
    logger,
  }
}
