/**
 * The routing decision: which providers may serve a request, in which order, and why. It is a
 * pure function of the request, the options and the providers' live state (breaker, in-flight
 * count, measured latency), so `router.explain()` shows exactly what `complete()` will do, and
 * the decision stays cheap (it runs on every request; see bench/router.bench.ts).
 */
import { ContinuumError } from '../errors'
import {
  type CanonicalParameter,
  type CanonicalRequest,
  type DataClassification,
  type EmbeddingRequest,
  parameterName,
  parametersOf,
} from '../protocol/canonical'
import type { InferenceProvider, ProviderCapabilities } from '../provider-kit/provider'
import type { BreakerState, CircuitBreaker } from './circuit-breaker'
import type { RouterOperation } from './events'
import type { NormalisedRouterOptions } from './options'
import type { ProviderLimiter } from './provider-limiter'

/** Live state the router keeps per provider. */
export interface ProviderRuntime {
  provider: InferenceProvider
  breaker: CircuitBreaker
  limiter: ProviderLimiter
  /** EWMA of successful attempt latencies in ms; undefined until the first sample. */
  latencyEwma: number | undefined
}

/** One provider in a plan. */
export interface PlannedProvider {
  provider: string
  /** The provider-specific model name sent to it. */
  model: string
  /** Why it is at this position. */
  reason: string
  breaker: BreakerState
  /** False when its breaker is open or it is at its concurrency cap right now; the router skips it. */
  available: boolean
}

/** A provider left out of a plan, and why. */
export interface ExcludedProvider {
  provider: string
  reason: string
}

/** The answer of `router.explain()`: the order in which providers will be tried, and why. */
export interface RoutingPlan {
  operation: RouterOperation
  model: string
  policy: string
  classification?: DataClassification
  candidates: PlannedProvider[]
  excluded: ExcludedProvider[]
  /** Input tokens estimated from text length (about 4 characters a token), for cost and token limits. */
  estimatedInputTokens: number
}

/** Rough input token count: about four characters a token, plus a few per message. */
export function estimateInputTokens(request: CanonicalRequest | EmbeddingRequest): number {
  let characters = 0
  if ('messages' in request) {
    characters += request.system?.length ?? 0
    for (const message of request.messages) {
      characters += 16
      if (typeof message.content === 'string') characters += message.content.length
      else for (const part of message.content) if (part.type === 'text') characters += part.text.length
    }
  } else {
    for (const input of request.input) characters += input.length
  }
  return Math.ceil(characters / 4)
}

function hasImages(request: CanonicalRequest): boolean {
  for (const message of request.messages) {
    if (typeof message.content !== 'string' && message.content.some((part) => part.type === 'image'))
      return true
  }
  return false
}

interface Candidate {
  runtime: ProviderRuntime
  model: string
}

/** The wildcard a provider lists to serve any model name. */
export const ANY_MODEL = '*'

/** Whether a provider serves a provider-specific model name: listed, `*`, or (not strict) an empty list. */
export function servesModel(provider: InferenceProvider, model: string, strict: boolean): boolean {
  const models = provider.capabilities.models
  if (models.length === 0) return !strict
  return models.includes(model) || models.includes(ANY_MODEL)
}

/**
 * The first thing of a chat request a provider cannot carry, by the client's name: none when it
 * speaks the client's dialect (the request goes verbatim), else a dialect-only parameter, else a
 * canonical parameter it does not declare.
 */
export function unsupportedParameter(
  request: CanonicalRequest,
  used: readonly CanonicalParameter[],
  capabilities: ProviderCapabilities,
): string | undefined {
  const native = request.native
  if (native !== undefined && capabilities.dialects?.includes(native.dialect) === true) return undefined
  if (native !== undefined && native.only.length > 0) return native.only[0]
  const carried = capabilities.parameters ?? []
  for (const parameter of used) if (!carried.includes(parameter)) return parameterName(request, parameter)
  return undefined
}

/** Builds the plan, or throws MODEL_NOT_FOUND / NOT_SUPPORTED / NO_PROVIDER_AVAILABLE when nothing fits. */
export function planRoute(
  options: NormalisedRouterOptions,
  runtimes: ReadonlyMap<string, ProviderRuntime>,
  operation: RouterOperation,
  request: CanonicalRequest | EmbeddingRequest,
  classification: DataClassification | undefined,
): RoutingPlan {
  const excluded: ExcludedProvider[] = []
  let candidates: Candidate[] = []
  const alias = options.aliases.get(request.model)
  for (const id of options.order) {
    const runtime = runtimes.get(id)!
    const model = alias === undefined ? request.model : alias.get(id)
    if (
      model === undefined ||
      (alias === undefined && !servesModel(runtime.provider, model, options.requireDeclaredModels))
    )
      continue
    candidates.push({ runtime, model })
  }
  if (candidates.length === 0) {
    throw new ContinuumError(
      'CONTINUUM_MODEL_NOT_FOUND',
      `No configured provider serves model "${request.model}"`,
      {
        details: { model: request.model },
      },
    )
  }

  const chat = 'messages' in request ? request : undefined
  const needsTools = chat?.tools !== undefined && chat.tools.length > 0
  const needsVision = chat !== undefined && hasImages(chat)
  const used = chat === undefined ? [] : parametersOf(chat)
  candidates = candidates.filter(({ runtime }) => {
    // Left out here, not found out per attempt: each attempt is admitted first, so a count that
    // sends nothing would still spend the provider's per-minute request budget.
    if (operation === 'count_tokens' && runtime.provider.countTokens === undefined) {
      excluded.push({ provider: runtime.provider.id, reason: 'cannot count tokens' })
      return false
    }
    const capabilities = runtime.provider.capabilities
    const parameter = chat === undefined ? undefined : unsupportedParameter(chat, used, capabilities)
    const missing =
      operation === 'stream' && !capabilities.streaming
        ? 'streaming'
        : operation === 'embed' && !capabilities.embeddings
          ? 'embeddings'
          : needsTools && !capabilities.tools
            ? 'tools'
            : needsVision && !capabilities.vision
              ? 'vision'
              : parameter
    if (missing !== undefined)
      excluded.push({ provider: runtime.provider.id, reason: `does not support ${missing}` })
    return missing === undefined
  })
  if (candidates.length === 0) {
    // Names the parameter and the provider (ids and schema keys only, never values).
    const reasons = excluded.map(({ provider, reason }) => `${provider} ${reason}`).join('; ')
    throw new ContinuumError(
      'CONTINUUM_NOT_SUPPORTED',
      `No provider of model "${request.model}" supports this request: ${reasons}`,
      {
        details: { model: request.model, excluded },
      },
    )
  }

  const estimatedInputTokens = estimateInputTokens(request)
  const ordered = orderByPolicy(options, candidates, excluded, request, classification, estimatedInputTokens)
  const plan: RoutingPlan = {
    operation,
    model: request.model,
    policy: options.policy.type,
    ...(classification === undefined ? {} : { classification }),
    candidates: ordered.map(({ runtime, model, reason }) => ({
      provider: runtime.provider.id,
      model,
      reason,
      breaker: runtime.breaker.state,
      available: runtime.breaker.isAvailable() && !runtime.limiter.saturated,
    })),
    excluded,
    estimatedInputTokens,
  }
  if (plan.candidates.length === 0) {
    throw new ContinuumError(
      'CONTINUUM_NO_PROVIDER_AVAILABLE',
      `Routing policy ${options.policy.type} leaves no provider for model "${request.model}"`,
      { details: { model: request.model, policy: options.policy.type, excluded }, isRetryable: false },
    )
  }
  return plan
}

type Ordered = Candidate & { reason: string }

/** The candidates `keep` accepts; each other one is recorded as excluded for `reason`. */
function exclude(
  list: Candidate[],
  excluded: ExcludedProvider[],
  keep: (candidate: Candidate) => boolean,
  reason: string,
): Candidate[] {
  return list.filter((candidate) => {
    const kept = keep(candidate)
    if (!kept) excluded.push({ provider: candidate.runtime.provider.id, reason })
    return kept
  })
}

/** Cloud providers in configured order, then (when allowed) the local ones. */
function cloudThenLocal(
  candidates: Candidate[],
  excluded: ExcludedProvider[],
  fallbackToLocal: boolean,
  why: string,
): Ordered[] {
  const result: Ordered[] = []
  for (const candidate of candidates) {
    if (!candidate.runtime.provider.capabilities.local)
      result.push({ ...candidate, reason: `${why}cloud, configured order` })
  }
  for (const candidate of candidates) {
    if (!candidate.runtime.provider.capabilities.local) continue
    if (fallbackToLocal) result.push({ ...candidate, reason: `${why}local fallback` })
    else excluded.push({ provider: candidate.runtime.provider.id, reason: 'local fallback disabled' })
  }
  return result
}

function latencyOf(runtime: ProviderRuntime): number {
  return runtime.latencyEwma ?? runtime.provider.capabilities.latencyMs.p50
}

function orderByPolicy(
  options: NormalisedRouterOptions,
  candidates: Candidate[],
  excluded: ExcludedProvider[],
  request: CanonicalRequest | EmbeddingRequest,
  classification: DataClassification | undefined,
  estimatedInputTokens: number,
): Ordered[] {
  const policy = options.policy
  switch (policy.type) {
    case 'cloud_first':
      return cloudThenLocal(candidates, excluded, policy.fallbackToLocal ?? true, '')
    case 'local_only':
      return exclude(
        candidates,
        excluded,
        ({ runtime }) => runtime.provider.capabilities.local,
        'not local (local_only)',
      ).map((candidate) => ({ ...candidate, reason: 'local, configured order' }))
    case 'classification_based': {
      const effective = classification ?? 'internal'
      if (options.localFor.has(effective)) {
        return exclude(
          candidates,
          excluded,
          ({ runtime }) => runtime.provider.capabilities.local,
          `not local; ${effective} data stays local`,
        ).map((candidate) => ({ ...candidate, reason: `local: ${effective} data stays local` }))
      }
      return cloudThenLocal(candidates, excluded, policy.fallbackToLocal ?? true, `${effective} data: `)
    }
    case 'cost_optimized': {
      const outputTokens = ('maxTokens' in request ? request.maxTokens : undefined) ?? 256
      const max = policy.maxCostPerMillion
      const kept =
        max === undefined
          ? candidates
          : exclude(
              candidates,
              excluded,
              ({ runtime }) => {
                const cost = runtime.provider.capabilities.costPerMillion
                return (cost.input + cost.output) / 2 <= max
              },
              `blended cost above ${max} per million tokens`,
            )
      return kept
        .map((candidate) => {
          const cost = candidate.runtime.provider.capabilities.costPerMillion
          const estimate = (estimatedInputTokens * cost.input + outputTokens * cost.output) / 1_000_000
          return { candidate, estimate }
        })
        .sort((left, right) => left.estimate - right.estimate)
        .map(({ candidate, estimate }) => ({
          ...candidate,
          reason: `estimated cost $${estimate.toFixed(6)}`,
        }))
    }
    case 'latency_optimized': {
      const max = policy.maxLatencyMs
      const kept =
        max === undefined
          ? candidates
          : exclude(
              candidates,
              excluded,
              ({ runtime }) => latencyOf(runtime) <= max,
              `latency estimate above ${max} ms`,
            )
      return kept
        .map((candidate) => ({ candidate, latency: latencyOf(candidate.runtime) }))
        .sort((left, right) => left.latency - right.latency)
        .map(({ candidate, latency }) => ({
          ...candidate,
          reason: `latency ${Math.round(latency)} ms (${candidate.runtime.latencyEwma === undefined ? 'static p50' : 'measured'})`,
        }))
    }
    case 'weighted': {
      const pool = exclude(
        candidates,
        excluded,
        ({ runtime }) => (policy.weights[runtime.provider.id] ?? 1) > 0,
        'weight 0',
      ).map((candidate) => ({ candidate, weight: policy.weights[candidate.runtime.provider.id] ?? 1 }))
      const result: Ordered[] = []
      while (pool.length > 0) {
        const total = pool.reduce((sum, entry) => sum + entry.weight, 0)
        // The last one needs no draw; keeping draws to a minimum keeps injected sequences readable.
        let pick = pool.length === 1 ? 0 : options.random() * total
        let index = 0
        while (index < pool.length - 1 && pick >= pool[index]!.weight) {
          pick -= pool[index]!.weight
          index += 1
        }
        const [entry] = pool.splice(index, 1)
        result.push({ ...entry!.candidate, reason: `weight ${entry!.weight} of ${total}` })
      }
      return result
    }
    case 'least_busy':
      return candidates
        .map((candidate) => ({
          candidate,
          inFlight: candidate.runtime.limiter.inFlight,
          latency: latencyOf(candidate.runtime),
        }))
        .sort((left, right) => left.inFlight - right.inFlight || left.latency - right.latency)
        .map(({ candidate, inFlight }) => ({ ...candidate, reason: `${inFlight} in flight` }))
    case 'fallback_chain': {
      // The model name is the caller's: an inherited property (`constructor`) is no chain.
      const byModel = policy.byModel
      const chain =
        byModel !== undefined && Object.hasOwn(byModel, request.model)
          ? byModel[request.model]!
          : policy.chain
      const result: Ordered[] = []
      for (const [position, id] of chain.entries()) {
        const candidate = candidates.find(({ runtime }) => runtime.provider.id === id)
        if (candidate !== undefined)
          result.push({ ...candidate, reason: `position ${position + 1} of fallback chain` })
      }
      for (const { runtime } of candidates) {
        if (!chain.includes(runtime.provider.id))
          excluded.push({ provider: runtime.provider.id, reason: 'not in chain' })
      }
      return result
    }
  }
}
