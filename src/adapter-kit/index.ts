/**
 * `continuum-proxy/adapter-kit`: what a protocol adapter or a framework binding is written with,
 * the same kit the built-in adapters and the Express, Koa and Fastify bindings use. The adapter
 * contract (`defineAdapter` and its route shapes), the facts helpers every wire format needs, the
 * error class, and for a binding the pipeline it runs (`createProxy`) with the answers a binding
 * gives before the pipeline does.
 *
 * It is a separate entry, not a subset of the root one, so that a binding loads only these
 * pieces: a bundler gives everything an entry file names to the chunks of whoever imports it, and
 * the root entry names the key sources, sessions and stores too. Everything here is also exported
 * from `continuum-proxy`. So are the helpers a route's `modelText` reader is written with
 * (`ModelTextCollector`, `chatRole`, `pointer`, `recordOf`), which are not here: only a scanner
 * runs a reader, so the built-in adapters import theirs on first use (`loadOnce`), and naming the
 * helpers here would load them with every binding.
 *
 * @example
 * import { defineAdapter } from 'continuum-proxy/adapter-kit'
 * export const acmeAdapter = defineAdapter({ name: 'acme', routes: [...] })
 */

export { ContinuumError, type ErrorCode, type ErrorType } from '../errors'
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
} from '../protocol/adapter'
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
} from '../protocol/facts'
export { loadOnce } from '../protocol/load-once'
export type { ModelTextRole, ModelTextSegment } from '../protocol/model-text'
export { AdapterRegistry, type RouteLookup, type RouteMatch } from '../protocol/registry'
export type { StreamEvent } from '../protocol/stream-event'
export { type ContinuumProxy, createProxy } from '../proxy/proxy'
export type { ProxyOptions } from '../proxy/proxy-options'
export { type PathProblem, pathProblem } from '../proxy/request-path'
export { errorResponse } from '../proxy/responses'
