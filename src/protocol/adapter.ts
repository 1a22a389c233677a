/**
 * The contract of a protocol adapter (versioned, like the AI SDK's provider specification): the
 * routes it serves, which fields of each message stay plain (an allow-list: everything else is
 * encrypted), the JSON Schema a decrypted request must satisfy, how its streams are framed, and
 * everything else that is specific to the protocol: the credential headers it carries, how its
 * bodies report model and token counts, which routes may be cached, where the text the model
 * reads sits, and how the router gateway speaks it. Adapters are data, so the same definition
 * drives the server pipeline, the client SDK and every feature; the core names no protocol.
 */
import { ContinuumError } from '../errors'
import type { FactsReader } from './facts'
import type { GatewayCodec } from './gateway-codec'
import type { ModelTextSegment } from './model-text'
import type { StreamEvent } from './stream-event'

/** How a route's response stream is framed. */
export type StreamFraming = 'sse' | 'ndjson'

/** HTTP methods a route may declare. */
export type RouteMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH'

/** The streaming behaviour of a route. */
export interface RouteStreamDefinition {
  /** Framing of the response stream. */
  framing: StreamFraming
  /**
   * When a request streams: `'always'`, or a predicate over the decrypted body.
   * @default (body) => body.stream === true
   */
  when?: 'always' | ((body: Record<string, unknown>) => boolean)
  /** Plain-field allow-list of each stream event object. */
  plain: readonly string[]
  /** The data of an SSE event that terminates the stream without being JSON, e.g. OpenAI's `[DONE]`. */
  terminal?: string
  /**
   * Recognises the last event of a stream that has no terminal sentinel (Anthropic's
   * `message_stop`, Ollama's `done: true`), so a stream that ends cleanly before it still counts
   * as cut. Receives the upstream event (plaintext, before encryption) and its SSE event name.
   * @default any stream that ends cleanly is complete
   */
  isFinal?: (event: Record<string, unknown>, eventName: string) => boolean
  /**
   * A mid-stream failure as the one event this protocol's clients read as an error. On an
   * encrypted exchange it is sealed like every other event, so the client can trust it.
   * @default SSE `event: error` with `{"error":{code,message,type}}`; NDJSON `{"error": message, "code": code}`
   */
  errorEvent?: (error: ContinuumError) => StreamEvent
}

/** Caching of a route's answers by the response cache. */
export interface RouteCacheDefinition {
  /**
   * Whether the request asks the model to sample (a temperature above zero, say): such answers
   * differ on every call and are not cached unless the cache is told to.
   */
  samples(body: Record<string, unknown>): boolean
}

/** One route of a protocol. */
export interface RouteDefinition {
  /** Short stable name, unique within the adapter, e.g. `chat-completions`. */
  name: string
  method: RouteMethod
  /** Path template; `{name}` matches one segment, e.g. `/v2/models/{model}/generate`. */
  path: string
  /**
   * A request header that selects this route among routes of several adapters on the same method
   * and path: Anthropic's SDK sends `anthropic-version` on `GET /v1/models`, OpenAI's does not.
   * At most one route of a method and path may go without.
   * @default undefined (the route serves every request on its method and path)
   */
  header?: string
  /**
   * Whether fields are encrypted on this route. Plain routes (model lists, health) are forwarded
   * untouched and streamed both ways.
   */
  encrypted: boolean
  /** Plain-field allow-list of the request body. Required on encrypted routes. */
  requestPlain?: readonly string[]
  /**
   * JSON Schema (draft 2020-12 subset ajv accepts) the decrypted request body must satisfy, or a
   * function that loads it: called on the route's first request and never again (the built-in
   * adapters load theirs so, and a proxy never loads the schema of a route it is not sent).
   * @default undefined (the body is not validated beyond being a JSON object)
   */
  requestSchema?: Record<string, unknown> | (() => Promise<Record<string, unknown>>)
  /** Plain-field allow-list of a JSON response, including error bodies. Required on encrypted routes. */
  responsePlain?: readonly string[]
  /** Streaming behaviour, when the route can stream. */
  stream?: RouteStreamDefinition
  /**
   * The GenAI operation of the route for telemetry (`chat`, `text_completion`, `embeddings`, ...).
   * @default the route name
   */
  operation?: string
  /**
   * Reads the model, parameters and token counts from plain bodies, for telemetry and audit.
   * @default undefined (no facts beyond the path parameter `model`)
   */
  facts?: FactsReader
  /**
   * Marks the route's answers as cacheable by the response cache.
   * @default undefined (never cached)
   */
  cache?: RouteCacheDefinition
  /**
   * The text of a decrypted request that the model reads, with its role and JSON Pointer, for the
   * prompt scanner: every member a server may show the model (tool results, tool definitions,
   * members the protocol does not name), never skipping deeper content. Write it with
   * `ModelTextCollector`. It may answer a promise, so the reader can be loaded when a scanner first
   * asks (the built-in adapters load theirs that way: a proxy without a scanner never runs them).
   * @default undefined (the scanner reads every string of the body)
   */
  modelText?: (body: Record<string, unknown>) => ModelTextSegment[] | Promise<ModelTextSegment[]>
  /**
   * How the router gateway serves this route, loaded on first use so the proxy alone never loads
   * the translation code.
   * @default undefined (the gateway does not serve the route)
   */
  gateway?: () => Promise<GatewayCodec>
}

/** A protocol adapter. */
export interface ProtocolAdapter {
  readonly specificationVersion: 'v1'
  /** Unique name, e.g. `openai`. */
  readonly name: string
  readonly routes: readonly RouteDefinition[]
  /**
   * Request headers that carry the caller's credentials on this protocol (e.g. `x-api-key`): they
   * scope cached answers and are never written to logs or audit records.
   * @default []
   */
  readonly credentialHeaders: readonly string[]
  /**
   * Request headers that change the shape of an answer (e.g. `anthropic-version`), so cached
   * answers are kept apart by them.
   * @default []
   */
  readonly varyHeaders: readonly string[]
}

/** What a deferred adapter declares of a route up front: enough to route a request to it. */
export type RouteSummary = Pick<RouteDefinition, 'name' | 'method' | 'path' | 'header' | 'encrypted'>

/**
 * An adapter registered by its routes alone and loaded on the first request one of them serves,
 * so a proxy does not load the definitions of a protocol it is configured for but not sent (the
 * bindings register TGI, Ollama and Triton so). The registry routes by the summaries until the
 * adapter is loaded, then requires the loaded adapter to declare exactly those routes: what was
 * decided before loading (which paths are the proxy's, which routes are encrypted) cannot change.
 * Every request of a burst shares one load; a failed load is tried again on the next request.
 */
export interface DeferredAdapter {
  /** The contract version of the adapter `load` answers. */
  readonly specificationVersion: 'v1'
  /** The name of the adapter `load` answers. */
  readonly name: string
  /** The routes the loaded adapter has, each by name, method, path, selecting header and `encrypted`. */
  readonly routes: readonly RouteSummary[]
  /** Loads the adapter, e.g. `() => import('./adapter').then((module) => module.acmeAdapter)`. */
  load(): Promise<ProtocolAdapter>
}

/** What {@link deferAdapter} takes. */
export interface DeferredAdapterDefinition {
  /** The name of the adapter `load` answers. */
  name: string
  /** Its routes, each by name, method, path, selecting header and `encrypted`. */
  routes: readonly RouteSummary[]
  /** Loads the adapter; called on the first request one of the routes serves. */
  load: () => Promise<ProtocolAdapter>
}

/**
 * Declares an adapter loaded on first use (see {@link DeferredAdapter}).
 *
 * @example
 * ```ts
 * const acme = deferAdapter({
 *   name: 'acme',
 *   routes: [{ name: 'echo', method: 'POST', path: '/echo', encrypted: true }],
 *   load: () => import('./acme-adapter').then((module) => module.acmeAdapter),
 * })
 * ```
 */
export function deferAdapter(definition: DeferredAdapterDefinition): DeferredAdapter {
  if (typeof definition.load !== 'function') {
    throw new ContinuumError(
      'CONTINUUM_INVALID_OPTIONS',
      `Adapter "${definition.name}": load must be a function that loads the adapter`,
    )
  }
  return {
    specificationVersion: 'v1',
    name: definition.name,
    routes: definition.routes,
    load: definition.load,
  }
}

/** What {@link defineAdapter} takes. */
export interface AdapterDefinition {
  name: string
  routes: readonly RouteDefinition[]
  /** @default [] */
  credentialHeaders?: readonly string[]
  /** @default [] */
  varyHeaders?: readonly string[]
}

const HEADER_NAME = /^[a-z0-9-]+$/

function headerList(adapter: string, list: readonly string[] | undefined, name: string): readonly string[] {
  const headers = list ?? []
  if (
    !Array.isArray(headers) ||
    headers.some((header) => typeof header !== 'string' || !HEADER_NAME.test(header))
  ) {
    throw new ContinuumError(
      'CONTINUUM_INVALID_OPTIONS',
      `Adapter "${adapter}": ${name} must be lower-case header names`,
    )
  }
  return Object.freeze([...headers])
}

/**
 * Declares a protocol adapter. Registering it in an {@link AdapterRegistry} validates its routes;
 * this function stamps the specification version so the registry can refuse incompatible shapes.
 *
 * @example
 * ```ts
 * const echo = defineAdapter({
 *   name: 'echo',
 *   routes: [{ name: 'echo', method: 'POST', path: '/echo', encrypted: true,
 *              requestPlain: ['model'], responsePlain: ['model'] }],
 * })
 * ```
 */
export function defineAdapter(definition: AdapterDefinition): ProtocolAdapter {
  return {
    specificationVersion: 'v1',
    name: definition.name,
    routes: definition.routes,
    credentialHeaders: headerList(definition.name, definition.credentialHeaders, 'credentialHeaders'),
    varyHeaders: headerList(definition.name, definition.varyHeaders, 'varyHeaders'),
  }
}
