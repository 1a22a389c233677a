/**
 * `continuum-proxy/provider-kit`: everything a router provider is written with, the same kit the
 * built-in providers use. The provider contract (`InferenceProvider`, versioned), provider types
 * for configuration files, the HTTP transport with its timeout, abort and bounded-body handling,
 * the one mapping of statuses and network failures onto the router's error codes, health probes,
 * option and config helpers, and small translations every wire mapping needs.
 *
 * @example
 * const http = new ProviderHttp({ providerId: 'acme', timeoutMs: 30_000, maxResponseBytes: 8 << 20 })
 * const { body } = await http.json({ method: 'POST', url, headers, body: JSON.stringify(wire) })
 */

export { ContinuumError, type ErrorCode } from '../errors'
export { importOptionalDependency } from '../internal/optional-dependency'
// The canonical shapes a provider translates its wire format to and from.
export {
  type CanonicalMessage,
  type CanonicalParameter,
  type CanonicalRequest,
  type CanonicalResponse,
  type Citation,
  type ContentPart,
  type EmbeddingRequest,
  type EmbeddingResponse,
  type FinishReason,
  type NativeDialect,
  parameterName,
  type RequestMetadata,
  type Role,
  type StreamChunk,
  type TokenCountResponse,
  type ToolCall,
  type ToolDefinition,
  type Usage,
} from '../protocol/canonical'
export { LineDecoder, splitLines } from '../streams/line-splitter'
export { NdjsonDecoder, parseNdjson, parseNdjsonLine } from '../streams/ndjson'
export { parseSse, SseDecoder, type SseDecoderOptions, type SseEvent } from '../streams/sse'
export {
  contentParts,
  contentText,
  countOrUndefined,
  embeddingsNotSupported,
  isRecord,
  jsonObjectOrUndefined,
  newToolCallId,
  parseToolArguments,
  protocolError,
  streamEndedEarly,
  streamFailure,
  toolArgumentsText,
  toolNameFor,
} from './canonical-helpers'
export { healthFromError, probeHealth } from './health'
export {
  type HealthStatus,
  type InferenceProvider,
  type ProviderCapabilities,
  type ProviderHealth,
  providerServesModel,
} from './provider'
export {
  buildFromConfig,
  commonOptionsFromConfig,
  NON_EMPTY_STRING_SETTING,
  numberSetting,
  settingError,
  stringSetting,
} from './provider-config'
export {
  isAbortError,
  parseRetryAfter,
  providerErrorFromNetwork,
  providerErrorFromResponse,
  type ResponseHeaders,
} from './provider-errors'
export {
  ProviderHttp,
  type ProviderHttpHead,
  type ProviderHttpOptions,
  type ProviderHttpRequest,
} from './provider-http'
export {
  type CommonProviderOptions,
  invalidOption,
  mergeCapabilities,
  type ResolvedCommonOptions,
  resolveBaseUrl,
  resolveCommonOptions,
} from './provider-options'
export {
  defineProviderType,
  type ProviderConfig,
  type ProviderFactory,
  type ProviderFactoryContext,
  ProviderRegistry,
  type ProviderSettingSchema,
  type ProviderTypeDefinition,
} from './provider-registry'
