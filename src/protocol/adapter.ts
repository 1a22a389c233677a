/**
 * The contract of a protocol adapter (versioned, like the AI SDK's provider specification): the
 * routes it serves, which fields of each message stay plain (an allow-list: everything else is
 * encrypted), the JSON Schema a decrypted request must satisfy, and how its streams are framed.
 * Adapters are data, so the same definition drives the server pipeline and the client SDK.
 */
import type { ContinuumError } from '../errors'

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
   * Renders a mid-stream failure as one frame this protocol's clients understand as an error.
   * @default SSE `event: error` with `{"error":{code,message,type}}`; NDJSON `{"error": message, "code": code}`
   */
  formatError?: (error: ContinuumError) => string
}

/** One route of a protocol. */
export interface RouteDefinition {
  /** Short stable name, unique within the adapter, e.g. `chat-completions`. */
  name: string
  method: RouteMethod
  /** Path template; `{name}` matches one segment, e.g. `/v2/models/{model}/generate`. */
  path: string
  /**
   * Whether fields are encrypted on this route. Plain routes (model lists, health) are forwarded
   * untouched and streamed both ways.
   */
  encrypted: boolean
  /** Plain-field allow-list of the request body. Required on encrypted routes. */
  requestPlain?: readonly string[]
  /** JSON Schema (draft 2020-12 subset ajv accepts) the decrypted request body must satisfy. */
  requestSchema?: Record<string, unknown>
  /** Plain-field allow-list of a JSON response, including error bodies. Required on encrypted routes. */
  responsePlain?: readonly string[]
  /** Streaming behaviour, when the route can stream. */
  stream?: RouteStreamDefinition
}

/** A protocol adapter. */
export interface ProtocolAdapter {
  readonly specificationVersion: 'v1'
  /** Unique name, e.g. `openai`. */
  readonly name: string
  readonly routes: readonly RouteDefinition[]
}

/** What {@link defineAdapter} takes. */
export interface AdapterDefinition {
  name: string
  routes: readonly RouteDefinition[]
}

/**
 * Declares a protocol adapter. Registering it in an {@link AdapterRegistry} validates it; this
 * function only stamps the specification version so the registry can refuse incompatible shapes.
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
  return { specificationVersion: 'v1', name: definition.name, routes: definition.routes }
}
