/**
 * `continuum-proxy`: the framework-neutral core. Framework bindings live at
 * `continuum-proxy/express`, `/koa` and `/fastify`; the client at `continuum-proxy/client`; CKKS at
 * `continuum-proxy/fhe`. Everything here is exported by name: what is not listed is internal.
 */

// Protocol adapters and the router's provider clients
export * from '../adapters/anthropic'
export * from '../adapters/azure-openai'
export * from '../adapters/bedrock'
export { builtinAdapters } from '../adapters/builtin'
export * from '../adapters/ollama'
export * from '../adapters/openai'
export * from '../adapters/openai-compatible'
export * from '../adapters/tgi'
export { tritonAdapter } from '../adapters/triton'
export * from '../adapters/vertex'
export * from '../adapters/vllm'
export * from './audit'
// Encrypted response cache
export {
  CACHE_RESULT_HEADER,
  type CachedResponse,
  type CacheEligibility,
  type CacheResult,
  type CachingUpstreamOptions,
  createCachingUpstream,
  DEFAULT_CACHE_ROUTES,
  defaultScope,
  ResponseCache,
  type ResponseCacheOptions,
} from './cache'
// Field cipher
export {
  AGREEMENT_KEY_PATH,
  type AgreementKeyInput,
  type FieldKey,
  FORMAT_VERSION,
  fingerprint,
  generateAgreementKeyPair,
  HEADERS,
  Keyring,
  type KeyringOptions,
  type PublishedAgreementKey,
  type SharedKeyInput,
} from './cipher'
export * from './classifier'
export * from './config'
export { type Clock, systemClock } from './core/clock'
// Core shapes and I/O seams
export type { CoreHandler, CoreRequest, CoreRequestBody, CoreResponse, CoreResponseBody } from './core/http'
export { chainHandlers } from './core/http'
export { type LogFields, type Logger, silentLogger } from './core/logger'
// Errors
export {
  ContinuumError,
  type ContinuumErrorOptions,
  ERROR_CODES,
  type ErrorCode,
  type ErrorCodeInfo,
  type ErrorType,
  isErrorCode,
} from './errors'
export * from './privacy'
// Adapters
export {
  type AdapterDefinition,
  defineAdapter,
  type ProtocolAdapter,
  type RouteDefinition,
  type RouteMethod,
  type RouteStreamDefinition,
  type StreamFraming,
} from './protocol/adapter'
export type { CompiledRoute, CompiledStream } from './protocol/compiled-route'
export { AdapterRegistry, type RouteLookup, type RouteMatch } from './protocol/registry'
// Proxy
export { type ContinuumProxy, createProxy } from './proxy/proxy'
export type { ProxyOptions } from './proxy/proxy-options'
export {
  type Exchange,
  type ExchangeObservation,
  type ExchangeObserver,
  type ExchangeOutcome,
  type ExchangePhase,
  type ExchangePhaseEnd,
  observerOf,
  type ProxyStage,
} from './proxy/stage'
export type { Upstream, UpstreamOptions, UpstreamRequest, UpstreamResponse } from './proxy/upstream'
// Router and configuration
export * from './router'
// The OpenAI/Anthropic-compatible gateway in front of the router
export * from './router/gateway'
// Scanner, classifier, audit, privacy, telemetry and the stages that wire them into the proxy
export * from './scanner'
export * from './stages'
export { MemoryStateStore, type MemoryStateStoreOptions, type StateStore } from './stores'
// Stream framing
export { formatNdjson, formatSse, parseNdjson, parseSse, type SseEvent } from './streams'
export * from './telemetry'
