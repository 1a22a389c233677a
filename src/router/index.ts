/** The router's public surface: the provider contract, the InferenceRouter and its helpers. */
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
export {
  type HealthStatus,
  type InferenceProvider,
  type ProviderCapabilities,
  type ProviderHealth,
  providerServesModel,
} from './provider'
export {
  isAbortError,
  parseRetryAfter,
  providerErrorFromNetwork,
  providerErrorFromResponse,
  type ResponseHeaders,
} from './provider-errors'
export {
  PROVIDER_TYPES,
  type ProviderConfig,
  type ProviderFactory,
  type ProviderFactoryContext,
  ProviderRegistry,
  type ProviderType,
} from './provider-registry'
