/**
 * `continuum-proxy`: the framework-neutral core and its contracts, exported by name. The pipeline
 * (`createProxy`) takes its protocols (`continuum-proxy/adapters`), its upstream and its stages
 * (`/scanner`, `/audit`, `/telemetry`, `/cache`) as arguments and builds none of them itself; the
 * Express, Koa and Fastify bindings (`/express`, `/koa`, `/fastify`) supply the built-in protocols
 * by default. Adapter and provider authors find every contract they implement here and in
 * `continuum-proxy/provider-kit`. What is not listed is internal.
 */

export type { FieldKey, KeyMaterial } from './cipher/field-key'
// Field cipher
export { AGREEMENT_KEY_PATH, FORMAT_VERSION, HEADERS } from './cipher/format'
export { hybridFingerprint } from './cipher/hybrid-fingerprint'
export { type HandshakeAnswer, SESSION_PATH, type SessionPolicy } from './cipher/hybrid-handshake'
export {
  type AgreementAlgorithm,
  type AgreementKeyPair,
  CLASSICAL_AGREEMENT,
  fingerprint,
  generateAgreementKeyPair,
  HYBRID_AGREEMENT,
  loadAgreementPrivateKey,
  type PublishedAgreementKey,
  type PublishedClassicalKey,
  type PublishedHybridKey,
} from './cipher/key-agreement'
export {
  fileKeySource,
  KEY_SCHEDULE_KEY,
  KeyringReloader,
  type KeyringReloaderOptions,
  type KeySchedule,
  type KeySource,
  publishKeySchedule,
  type ScheduleEntry,
  type StoredKeySchedule,
  type StoreKeySourceOptions,
  storeKeySource,
} from './cipher/key-source'
export {
  type AgreementKeyInput,
  Keyring,
  type KeyringOptions,
  type ScheduleChange,
  type ScheduledKeyInput,
  type SharedKeyInput,
} from './cipher/keyring'
export type { SessionTicket } from './cipher/session-ticket'
// Core shapes and I/O seams
export { type Clock, systemClock } from './core/clock'
export {
  type CoreHandler,
  type CoreRequest,
  type CoreRequestBody,
  type CoreResponse,
  type CoreResponseBody,
  chainHandlers,
} from './core/http'
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
// Not in ./errors, which the runtime imports: the descriptions are documentation only.
export { ERROR_DESCRIPTIONS } from './errors/code-descriptions'
// The protocol adapter contract
export {
  type AdapterDefinition,
  type DeferredAdapter,
  type DeferredAdapterDefinition,
  deferAdapter,
  defineAdapter,
  type ProtocolAdapter,
  type RouteCacheDefinition,
  type RouteDefinition,
  type RouteMethod,
  type RouteStreamDefinition,
  type RouteSummary,
  type StreamFraming,
} from './protocol/adapter'
export {
  CANONICAL_PARAMETERS,
  type CanonicalMessage,
  type CanonicalParameter,
  type CanonicalRequest,
  type CanonicalResponse,
  type Citation,
  type ContentPart,
  type DataClassification,
  type EmbeddingRequest,
  type EmbeddingResponse,
  type FinishReason,
  type ModelListing,
  type NativeDialect,
  type NativeRequest,
  parameterName,
  parametersOf,
  type ReasoningEffort,
  type RequestMetadata,
  type ResponseFormat,
  type Role,
  type StreamChunk,
  type TokenCountResponse,
  type ToolCall,
  type ToolDefinition,
  type Usage,
} from './protocol/canonical'
export type { CompiledRoute, CompiledStream } from './protocol/compiled-route'
export {
  type AnswerFacts,
  addAnswerFacts,
  addFinishReason,
  type FactsReader,
  finiteNumber,
  type RequestFacts,
  type ResponseFacts,
  shortName,
  tokenCount,
} from './protocol/facts'
export type {
  GatewayAnswerContext,
  GatewayChatCall,
  GatewayChatCodec,
  GatewayCodec,
  GatewayEmbeddingCall,
  GatewayEmbeddingCodec,
  GatewayModelCodec,
  GatewayModelListCodec,
  GatewayStreamWriter,
  GatewayTokenCountCall,
  GatewayTokenCountCodec,
} from './protocol/gateway-codec'
export { loadOnce } from './protocol/load-once'
export type { ModelTextRole, ModelTextSegment } from './protocol/model-text'
export {
  chatRole,
  jsonStrings,
  ModelTextCollector,
  pointer,
  recordOf,
} from './protocol/model-text-collector'
export { AdapterRegistry, type RouteLookup, type RouteMatch } from './protocol/registry'
export type { StreamEvent } from './protocol/stream-event'
// The proxy pipeline and its stage and upstream contracts
export {
  CACHE_ANNOTATION,
  type CacheAnnotation,
  cacheAnnotationOf,
  SCANNER_ANNOTATION,
  type ScannerAnnotation,
  scannerAnnotationOf,
} from './proxy/annotations'
export type {
  Exchange,
  ExchangeOutcome,
  ExchangeResponse,
  PhaseTiming,
  ReceivedExchange,
  ResponseBody,
} from './proxy/exchange'
export type { GatewayOptions, GatewaySource } from './proxy/gateway-source'
export { createHttpUpstream, type UpstreamOptions } from './proxy/http-upstream'
export { type ContinuumProxy, createProxy } from './proxy/proxy'
export type { ProxyOptions } from './proxy/proxy-options'
export { type PathProblem, pathProblem } from './proxy/request-path'
export { errorResponse } from './proxy/responses'
export { mapResponse, type Next, type ProxyStage } from './proxy/stage'
export type { Upstream, UpstreamRequest, UpstreamRequestBody, UpstreamResponse } from './proxy/upstream'
// Hybrid post-quantum agreement sessions
export { type HybridSessionStageOptions, hybridSessionStage } from './sessions/hybrid-session-stage'
// State stores
export { MemoryStateStore, type MemoryStateStoreOptions } from './stores/memory-state-store'
export type { StateStore, StoreCharge, StoreChargeResult } from './stores/state-store'
export {
  STORE_DIAGNOSTICS_CHANNEL,
  type StoreConsumer,
  type StoreFailureEvent,
} from './stores/store-failure'
// Stream framing, for adapter authors
export { formatNdjson, parseNdjson } from './streams/ndjson'
export { formatSse, parseSse, type SseDecoderOptions, type SseEvent } from './streams/sse'
