/**
 * `continuum-proxy`: the framework-neutral core. Framework bindings live at
 * `continuum-proxy/express`, `/koa` and `/fastify`; the client at `continuum-proxy/client`; CKKS at
 * `continuum-proxy/fhe`. Everything here is exported by name: what is not listed is internal.
 */

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

// Core shapes and I/O seams
export type { CoreHandler, CoreRequest, CoreRequestBody, CoreResponse, CoreResponseBody } from './core/http'
export { chainHandlers } from './core/http'
export { type Clock, systemClock } from './core/clock'
export { type LogFields, type Logger, silentLogger } from './core/logger'
export { MemoryStateStore, type MemoryStateStoreOptions, type StateStore } from './stores'

// Field cipher
export {
  type AgreementKeyInput,
  AGREEMENT_KEY_PATH,
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

// Adapters
export {
  type AdapterDefinition,
  defineAdapter,
  type ProtocolAdapter,
  type RouteDefinition,
  type RouteMethod,
  type RouteStreamDefinition,
  type StreamFraming,
} from './adapters/adapter'
export { AdapterRegistry, type RouteLookup, type RouteMatch } from './adapters/registry'
export { builtinAdapters } from './proxy/builtin-adapters'

// Proxy
export { type ContinuumProxy, createProxy } from './proxy/proxy'
export type { ProxyOptions } from './proxy/proxy-options'
export type { Exchange, ExchangeOutcome, ProxyStage } from './proxy/stage'
export type { UpstreamOptions } from './proxy/upstream'

// Stream framing
export { formatNdjson, formatSse, parseNdjson, parseSse, type SseEvent } from './streams'
