/** The router's public surface: the provider contract, the InferenceRouter and its helpers. */

export {
  isAbortError,
  parseRetryAfter,
  providerErrorFromNetwork,
  providerErrorFromResponse,
  type ResponseHeaders,
} from '../provider-kit/provider-errors'
export type {
  CanonicalMessage,
  CanonicalRequest,
  CanonicalResponse,
  ContentPart,
  DataClassification,
  EmbeddingRequest,
  EmbeddingResponse,
  FinishReason,
  RequestMetadata,
  Role,
  StreamChunk,
  ToolCall,
  ToolDefinition,
  Usage,
} from './canonical'
export { type BreakerState, CircuitBreaker } from './circuit-breaker'
export { ROUTER_DIAGNOSTICS_CHANNEL, type RouterEvent, type RouterOperation } from './events'
export type { ProviderHealthReport, RouterHealth } from './health'
export { createHealthHandler, type HealthHandlerOptions } from './health-handler'
export { InferenceRouter, type ModelListing } from './inference-router'
export {
  computeModelDigest,
  type ModelDigest,
  type ModelFileDigest,
  type ModelManifest,
  manifestSigningBytes,
  signModelManifest,
  type VerifyModelManifestOptions,
  verifyModelManifest,
} from './model-integrity'
export type { Classifier, RouterOptions, RoutingPolicy, RoutingPolicyType } from './options'
export {
  type HealthStatus,
  type InferenceProvider,
  type ProviderCapabilities,
  type ProviderHealth,
  providerServesModel,
} from './provider'
export type { LimitRefusal, ProviderLimits } from './provider-limiter'
export {
  PROVIDER_TYPES,
  type ProviderConfig,
  type ProviderFactory,
  type ProviderFactoryContext,
  ProviderRegistry,
  type ProviderType,
} from './provider-registry'
export type { ExcludedProvider, PlannedProvider, RoutingPlan } from './routing-plan'
export { type ModelIntegrityEntry, type ModelIntegrityOptions, withModelIntegrity } from './verified-provider'
