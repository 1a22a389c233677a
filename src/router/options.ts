/**
 * InferenceRouter options: documented with their defaults, validated and normalised once at
 * construction so the per-request path reads plain precomputed values. Policies are a
 * discriminated union because their settings are mutually exclusive.
 */
import type { Clock } from '../core/clock'
import { systemClock } from '../core/clock'
import type { Logger } from '../core/logger'
import { silentLogger } from '../core/logger'
import { ContinuumError } from '../errors'
import type { CanonicalRequest, DataClassification } from '../protocol/canonical'
import type { InferenceProvider } from '../provider-kit/provider'
import type { StateStore } from '../stores'
import { MemoryStateStore } from '../stores'
import type { RetrySettings } from './backoff'
import type { BreakerSettings } from './circuit-breaker'
import type { RouterEvent } from './events'
import type { ProviderLimits } from './provider-limiter'

/** How the router orders the providers that can serve a request. */
export type RoutingPolicy =
  /** Cloud providers in order; local ones after them when `fallbackToLocal` (default true). */
  | { type: 'cloud_first'; fallbackToLocal?: boolean }
  /** Only local providers; the request never leaves the host. */
  | { type: 'local_only' }
  /**
   * Local providers only for the listed classifications (default `confidential`, `restricted`);
   * other requests go cloud first with local fallback.
   */
  | { type: 'classification_based'; localFor?: DataClassification[]; fallbackToLocal?: boolean }
  /** Cheapest estimated request cost first; drops providers above `maxCostPerMillion` (blended input/output). */
  | { type: 'cost_optimized'; maxCostPerMillion?: number }
  /** Lowest measured latency (EWMA, seeded by the static p50) first; drops those above `maxLatencyMs`. */
  | { type: 'latency_optimized'; maxLatencyMs?: number }
  /** Random order weighted by `weights` (provider id -> weight; missing ids weigh 1, 0 excludes). */
  | { type: 'weighted'; weights: Record<string, number> }
  /** Fewest requests in flight first, then lowest measured latency. */
  | { type: 'least_busy' }
  /** An explicit chain of provider ids, tried in order; `byModel` overrides it per public model name. */
  | { type: 'fallback_chain'; chain: string[]; byModel?: Record<string, string[]> }

/** The name of a policy type. */
export type RoutingPolicyType = RoutingPolicy['type']

/** Decides the classification of a request that carries none (e.g. the scanner's classifier). */
export type Classifier = (request: CanonicalRequest) => DataClassification | Promise<DataClassification>

/** Options of {@link InferenceRouter}. */
export interface RouterOptions {
  /** The providers, ids unique. Order matters: it is the tie-break of every policy. */
  providers: InferenceProvider[]
  /** @default { type: 'cloud_first', fallbackToLocal: true } */
  policy?: RoutingPolicy
  /**
   * Public model name -> provider id -> provider-specific model name, e.g.
   * `{ 'gpt-4o': { openai: 'gpt-4o', azure: 'my-deployment' } }`. An aliased model is served only
   * by the providers its entry lists.
   * @default {}
   */
  aliases?: Record<string, Record<string, string>>
  retry?: {
    /** Retries per provider after the first attempt, for transient errors. @default 2 */
    maxRetries?: number
    /** First backoff ceiling; doubles per retry, full jitter. @default 100 */
    baseDelayMs?: number
    /** Largest backoff ceiling. @default 5000 */
    maxDelayMs?: number
    /** Longest Retry-After the router waits for; past it, it moves to the next provider. @default 30000 */
    maxRetryAfterMs?: number
  }
  breaker?: {
    /** Consecutive transient failures that open the breaker. @default 5 */
    failureThreshold?: number
    /** Failure rate (0..1] over the window that opens the breaker. @default 0.5 */
    failureRateThreshold?: number
    /** Attempts in the window before the rate is considered. @default 20 */
    minimumRequests?: number
    /** Rolling window of the failure rate. @default 60000 */
    windowMs?: number
    /** How long an open breaker refuses before letting probes through. @default 30000 */
    cooldownMs?: number
    /** Probe requests let through while half-open. @default 1 */
    halfOpenProbes?: number
    /**
     * Which timed-out attempts (CONTINUUM_PROVIDER_TIMEOUT: the router's attempt, first-chunk and
     * stream-idle timers, the provider client's own, a network timeout) count as failures.
     * `unresponsive`: only one in which nothing came back (no answer, no first stream chunk)
     * while the provider answered nobody else on this instance since the attempt started, so
     * requests that are slow for their own reasons (an attacker's huge outputs) cannot open the
     * breaker for everyone while the provider serves others. `always`: every timeout. A caller's
     * own abort never counts.
     * @default 'unresponsive'
     */
    countTimeouts?: 'unresponsive' | 'always'
  }
  timeouts?: {
    /** Per attempt; for streams, until the first chunk. @default 60000 */
    attemptMs?: number
    /** For the whole request including retries and fallbacks (streams: until the first chunk). @default 120000 */
    totalMs?: number
    /** Longest silence between two stream chunks. @default 60000 */
    streamIdleMs?: number
    /** Per health probe. @default 2000 */
    healthMs?: number
  }
  /** Limits per provider id. @default {} */
  rateLimits?: Record<string, ProviderLimits>
  /**
   * Holds the minute windows and concurrency leases of the rate limits and, with
   * `sharedBreakers`, the breakers' open periods: give instances one Redis store
   * (`continuum-proxy/redis`) and they share one budget.
   * @default new MemoryStateStore()
   */
  store?: StateStore
  /**
   * How long a `maxConcurrency` slot is held without renewal, in milliseconds. Running requests
   * renew theirs every third of it; a crashed instance's slots free themselves after it.
   * @default 30000
   */
  concurrencyLeaseMs?: number
  /**
   * What the rate limits do when the store cannot answer: `open` lets the request through (a
   * metric and a log line record it), `closed` refuses it with 503 CONTINUUM_STORE_UNAVAILABLE.
   * @default 'open'
   */
  rateLimitStoreFailure?: 'open' | 'closed'
  /**
   * Share circuit-breaker open periods through `store`: a breaker that trips on one instance
   * opens on every instance within `refreshMs` (a background read per provider per period; the
   * request path stays local). Failures are still counted per instance.
   * @default false
   */
  sharedBreakers?:
    | boolean
    | {
        /** How often each instance reads the shared open periods, in milliseconds. @default 1000 */
        refreshMs?: number
      }
  /** @default systemClock */
  clock?: Clock
  /** Random source in [0, 1) for jitter and weighted routing. @default Math.random */
  random?: () => number
  /** @default silentLogger */
  logger?: Logger
  /** Classifies requests without `metadata.classification`; unclassified requests count as `internal`. */
  classifier?: Classifier
  /** Telemetry hook; guarded, a throwing hook is ignored. Events also go to the `continuum:router` diagnostics channel. */
  onEvent?: (event: RouterEvent) => void
  /** Weight of a new latency sample in the EWMA (0..1]. @default 0.2 */
  latencySmoothing?: number
  /** How long a health result is reused. @default 5000 */
  healthCacheMs?: number
  /**
   * Whether a provider serves only the models it lists (`["*"]` for any): a name no provider lists
   * and no alias maps is then a 404 rather than routed. Off, an empty `models` list means any
   * model. `loadRouterConfig` turns it on.
   * @default false
   */
  requireDeclaredModels?: boolean
}

/** Options after validation, defaults applied. */
export interface NormalisedRouterOptions {
  providers: Map<string, InferenceProvider>
  order: string[]
  policy: RoutingPolicy
  aliases: Map<string, Map<string, string>>
  retry: RetrySettings
  breaker: BreakerSettings
  timeouts: { attemptMs: number; totalMs: number; streamIdleMs: number; healthMs: number }
  rateLimits: Record<string, ProviderLimits>
  store: StateStore
  concurrencyLeaseMs: number
  rateLimitFailOpen: boolean
  /** Set when breakers are shared. */
  sharedBreakers: { refreshMs: number } | undefined
  clock: Clock
  random: () => number
  logger: Logger
  classifier: Classifier | undefined
  onEvent: ((event: RouterEvent) => void) | undefined
  latencySmoothing: number
  healthCacheMs: number
  requireDeclaredModels: boolean
  localFor: ReadonlySet<DataClassification>
}

const CLASSIFICATIONS: readonly DataClassification[] = ['public', 'internal', 'confidential', 'restricted']

function invalid(message: string): ContinuumError {
  return new ContinuumError('CONTINUUM_INVALID_OPTIONS', `InferenceRouter: ${message}`)
}

function positiveInteger(
  value: number | undefined,
  fallback: number,
  name: string,
  allowZero = false,
): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw invalid(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer`)
  }
  return value
}

function fraction(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !(value > 0 && value <= 1))
    throw invalid(`${name} must be a number in (0, 1]`)
  return value
}

function flag(value: boolean | undefined, name: string): boolean {
  if (value === undefined) return false
  if (typeof value !== 'boolean') throw invalid(`${name} must be true or false`)
  return value
}

function normalisePolicy(policy: RoutingPolicy, providerIds: ReadonlySet<string>): RoutingPolicy {
  const checkIds = (ids: readonly string[], name: string): void => {
    for (const id of ids) if (!providerIds.has(id)) throw invalid(`${name} names unknown provider "${id}"`)
  }
  switch (policy.type) {
    case 'cloud_first':
    case 'local_only':
    case 'least_busy':
      return policy
    case 'classification_based':
      for (const classification of policy.localFor ?? []) {
        if (!CLASSIFICATIONS.includes(classification)) {
          throw invalid(`policy.localFor has unknown classification "${classification}"`)
        }
      }
      return policy
    case 'cost_optimized':
      if (policy.maxCostPerMillion !== undefined && !(policy.maxCostPerMillion >= 0)) {
        throw invalid('policy.maxCostPerMillion must be a non-negative number')
      }
      return policy
    case 'latency_optimized':
      if (policy.maxLatencyMs !== undefined && !(policy.maxLatencyMs > 0)) {
        throw invalid('policy.maxLatencyMs must be a positive number')
      }
      return policy
    case 'weighted':
      if (typeof policy.weights !== 'object' || policy.weights === null)
        throw invalid('policy.weights must be an object')
      checkIds(Object.keys(policy.weights), 'policy.weights')
      for (const [id, weight] of Object.entries(policy.weights)) {
        if (!(weight >= 0)) throw invalid(`policy.weights.${id} must be a non-negative number`)
      }
      return policy
    case 'fallback_chain':
      if (!Array.isArray(policy.chain) || policy.chain.length === 0)
        throw invalid('policy.chain must list provider ids')
      checkIds(policy.chain, 'policy.chain')
      for (const [model, chain] of Object.entries(policy.byModel ?? {}))
        checkIds(chain, `policy.byModel.${model}`)
      return policy
    default:
      throw invalid(`policy.type "${(policy as { type: unknown }).type}" is unknown`)
  }
}

/** Validates and normalises router options; throws CONTINUUM_INVALID_OPTIONS naming the option. */
export function normaliseRouterOptions(options: RouterOptions): NormalisedRouterOptions {
  if (typeof options !== 'object' || options === null) throw invalid('options must be an object')
  if (!Array.isArray(options.providers) || options.providers.length === 0) {
    throw invalid('providers must be a non-empty array')
  }
  const providers = new Map<string, InferenceProvider>()
  for (const [index, provider] of options.providers.entries()) {
    if (provider?.specificationVersion !== 'v1') {
      throw invalid(`providers[${index}] must implement the v1 InferenceProvider contract`)
    }
    if (typeof provider.id !== 'string' || provider.id === '')
      throw invalid(`providers[${index}].id must be a string`)
    if (providers.has(provider.id)) throw invalid(`providers[${index}].id "${provider.id}" is a duplicate`)
    providers.set(provider.id, provider)
  }
  const providerIds = new Set(providers.keys())
  const policy = normalisePolicy(
    options.policy ?? { type: 'cloud_first', fallbackToLocal: true },
    providerIds,
  )

  const aliases = new Map<string, Map<string, string>>()
  for (const [model, mapping] of Object.entries(options.aliases ?? {})) {
    const entries = new Map<string, string>()
    for (const [providerId, providerModel] of Object.entries(mapping)) {
      if (!providerIds.has(providerId))
        throw invalid(`aliases.${model} names unknown provider "${providerId}"`)
      if (typeof providerModel !== 'string' || providerModel === '') {
        throw invalid(`aliases.${model}.${providerId} must be a model name`)
      }
      entries.set(providerId, providerModel)
    }
    aliases.set(model, entries)
  }

  const rateLimits = options.rateLimits ?? {}
  for (const [id, limits] of Object.entries(rateLimits)) {
    if (!providerIds.has(id)) throw invalid(`rateLimits names unknown provider "${id}"`)
    positiveInteger(limits.requestsPerMinute, 1, `rateLimits.${id}.requestsPerMinute`)
    positiveInteger(limits.tokensPerMinute, 1, `rateLimits.${id}.tokensPerMinute`)
    positiveInteger(limits.maxConcurrency, 1, `rateLimits.${id}.maxConcurrency`)
  }
  const storeFailure = options.rateLimitStoreFailure ?? 'open'
  if (storeFailure !== 'open' && storeFailure !== 'closed') {
    throw invalid("rateLimitStoreFailure must be 'open' or 'closed'")
  }
  const countTimeouts = options.breaker?.countTimeouts ?? 'unresponsive'
  if (countTimeouts !== 'unresponsive' && countTimeouts !== 'always') {
    throw invalid("breaker.countTimeouts must be 'unresponsive' or 'always'")
  }
  const shared = options.sharedBreakers ?? false
  if (typeof shared !== 'boolean' && (typeof shared !== 'object' || shared === null)) {
    throw invalid('sharedBreakers must be a boolean or { refreshMs }')
  }
  const sharedBreakers =
    shared === false
      ? undefined
      : {
          refreshMs: positiveInteger(
            shared === true ? undefined : shared.refreshMs,
            1000,
            'sharedBreakers.refreshMs',
          ),
        }
  if (options.random !== undefined && typeof options.random !== 'function')
    throw invalid('random must be a function')
  if (options.classifier !== undefined && typeof options.classifier !== 'function') {
    throw invalid('classifier must be a function')
  }
  if (options.onEvent !== undefined && typeof options.onEvent !== 'function')
    throw invalid('onEvent must be a function')

  const retry = options.retry ?? {}
  const breaker = options.breaker ?? {}
  const timeouts = options.timeouts ?? {}
  const attemptMs = positiveInteger(timeouts.attemptMs, 60_000, 'timeouts.attemptMs')
  const localFor =
    policy.type === 'classification_based' ? (policy.localFor ?? ['confidential', 'restricted']) : []
  return {
    providers,
    order: [...providers.keys()],
    policy,
    aliases,
    retry: {
      maxRetries: positiveInteger(retry.maxRetries, 2, 'retry.maxRetries', true),
      baseDelayMs: positiveInteger(retry.baseDelayMs, 100, 'retry.baseDelayMs', true),
      maxDelayMs: positiveInteger(retry.maxDelayMs, 5000, 'retry.maxDelayMs', true),
      maxRetryAfterMs: positiveInteger(retry.maxRetryAfterMs, 30_000, 'retry.maxRetryAfterMs', true),
    },
    breaker: {
      failureThreshold: positiveInteger(breaker.failureThreshold, 5, 'breaker.failureThreshold'),
      failureRateThreshold: fraction(breaker.failureRateThreshold, 0.5, 'breaker.failureRateThreshold'),
      minimumRequests: positiveInteger(breaker.minimumRequests, 20, 'breaker.minimumRequests'),
      windowMs: positiveInteger(breaker.windowMs, 60_000, 'breaker.windowMs'),
      cooldownMs: positiveInteger(breaker.cooldownMs, 30_000, 'breaker.cooldownMs'),
      halfOpenProbes: positiveInteger(breaker.halfOpenProbes, 1, 'breaker.halfOpenProbes'),
      countTimeouts,
    },
    timeouts: {
      attemptMs,
      totalMs: positiveInteger(timeouts.totalMs, Math.max(120_000, attemptMs), 'timeouts.totalMs'),
      streamIdleMs: positiveInteger(timeouts.streamIdleMs, 60_000, 'timeouts.streamIdleMs'),
      healthMs: positiveInteger(timeouts.healthMs, 2000, 'timeouts.healthMs'),
    },
    rateLimits,
    store: options.store ?? new MemoryStateStore(options.clock === undefined ? {} : { clock: options.clock }),
    concurrencyLeaseMs: positiveInteger(options.concurrencyLeaseMs, 30_000, 'concurrencyLeaseMs'),
    rateLimitFailOpen: storeFailure === 'open',
    sharedBreakers,
    clock: options.clock ?? systemClock,
    random: options.random ?? Math.random,
    logger: options.logger ?? silentLogger,
    classifier: options.classifier,
    onEvent: options.onEvent,
    latencySmoothing: fraction(options.latencySmoothing, 0.2, 'latencySmoothing'),
    healthCacheMs: positiveInteger(options.healthCacheMs, 5000, 'healthCacheMs', true),
    requireDeclaredModels: flag(options.requireDeclaredModels, 'requireDeclaredModels'),
    localFor: new Set(localFor),
  }
}
