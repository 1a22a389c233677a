/**
 * `continuum-proxy/router`: the InferenceRouter over many providers, with its policies, health,
 * configuration loader and model integrity checks. Put it in front of clients with
 * `continuum({ router })`; build providers with `continuum-proxy/providers` or your own with
 * `continuum-proxy/provider-kit`.
 */

export type {
  CanonicalMessage,
  CanonicalParameter,
  CanonicalRequest,
  CanonicalResponse,
  Citation,
  ContentPart,
  DataClassification,
  EmbeddingRequest,
  EmbeddingResponse,
  FinishReason,
  ModelListing,
  NativeDialect,
  NativeRequest,
  ReasoningEffort,
  RequestMetadata,
  ResponseFormat,
  Role,
  StreamChunk,
  TokenCountResponse,
  ToolCall,
  ToolDefinition,
  Usage,
} from '../protocol/canonical'
export type {
  HealthStatus,
  InferenceProvider,
  ProviderCapabilities,
  ProviderHealth,
} from '../provider-kit/provider'
export {
  defineProviderType,
  type ProviderConfig,
  type ProviderFactory,
  type ProviderFactoryContext,
  ProviderRegistry,
  type ProviderTypeDefinition,
} from '../provider-kit/provider-registry'
export type { BreakerState } from './circuit-breaker'
export {
  configError,
  describeSchemaError,
  readConfigDocument,
  type SchemaErrorWording,
} from './config/config-document'
export { type LoadRouterConfigOptions, loadRouterConfig } from './config/load-router-config'
export { isSecretReference, resolveSecret, type SecretSources } from './config/secrets'
export { ROUTER_DIAGNOSTICS_CHANNEL, type RouterEvent, type RouterOperation } from './events'
export type { ProviderHealthReport, RouterHealth } from './health'
export { createHealthHandler, type HealthHandlerOptions } from './health-handler'
export {
  generateHybridSigningKeys,
  type HybridPrivateKey,
  type HybridPublicKey,
  type HybridSignatures,
} from './hybrid-signature'
export { InferenceRouter } from './inference-router'
export {
  computeModelDigest,
  type ModelDigest,
  type ModelDigestAlgorithm,
  type ModelFileDigest,
  type ModelManifest,
  manifestSigningBytes,
  signModelManifest,
  type VerifyModelManifestOptions,
  verifyModelManifest,
} from './model-integrity'
export type { Classifier, RouterOptions, RoutingPolicy, RoutingPolicyType } from './options'
export type { LimitRefusal, ProviderLimits } from './provider-limiter'
export type { ExcludedProvider, PlannedProvider, RoutingPlan } from './routing-plan'
export { type ModelIntegrityEntry, type ModelIntegrityOptions, withModelIntegrity } from './verified-provider'
