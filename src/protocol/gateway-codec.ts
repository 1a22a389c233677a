/**
 * How the router gateway speaks a protocol: a codec per route turns the decrypted request into a
 * canonical router call and writes the router's answer back in the protocol's own shapes, as
 * objects (a JSON body, or stream events), never as text: the pipeline seals and frames them on
 * the way out. Adapters declare a codec on each route the gateway serves; the gateway itself
 * knows no protocol.
 */
import type { ContinuumError } from '../errors'
import type {
  CanonicalRequest,
  CanonicalResponse,
  EmbeddingRequest,
  EmbeddingResponse,
  ModelListing,
  StreamChunk,
  TokenCountResponse,
} from './canonical'
import type { StreamEvent } from './stream-event'

/** Per-request values a codec may need to write an answer. */
export interface GatewayAnswerContext {
  /** The model the client asked for. */
  readonly model: string
  /** Unix time in seconds, from the injected clock. */
  readonly created: number
  /** A fresh random hex id (32 characters). */
  id(): string
}

/** Writes one router stream as protocol events. */
export interface GatewayStreamWriter {
  /** The events of one canonical chunk (possibly none). */
  push(chunk: StreamChunk): StreamEvent[]
  /** Whether the stream reached its finish (so it may end normally). */
  readonly finished: boolean
}

/** One decoded chat request. */
export interface GatewayChatCall {
  /** The canonical request; the gateway adds metadata and the abort signal. */
  readonly request: Omit<CanonicalRequest, 'metadata' | 'signal'>
  readonly stream: boolean
  /** The JSON body of a complete answer. */
  response(answer: CanonicalResponse, context: GatewayAnswerContext): Record<string, unknown>
  /** The event writer of a streamed answer. */
  writer(context: GatewayAnswerContext): GatewayStreamWriter
}

/** One decoded embeddings request. */
export interface GatewayEmbeddingCall {
  readonly request: Omit<EmbeddingRequest, 'metadata' | 'signal'>
  response(answer: EmbeddingResponse, context: GatewayAnswerContext): Record<string, unknown>
}

/** What every codec writes: the protocol's error body for a failure. */
interface GatewayCodecBase {
  /** The JSON error body clients of this protocol parse; the status is the error's own. */
  error(error: ContinuumError): Record<string, unknown>
}

/** A chat route (OpenAI chat completions, Anthropic messages). */
export interface GatewayChatCodec extends GatewayCodecBase {
  readonly kind: 'chat'
  /** Reads the request; throws CONTINUUM_SCHEMA_VIOLATION or CONTINUUM_NOT_SUPPORTED naming a path. */
  decode(body: Record<string, unknown>): GatewayChatCall
}

/** An embeddings route. */
export interface GatewayEmbeddingCodec extends GatewayCodecBase {
  readonly kind: 'embeddings'
  decode(body: Record<string, unknown>): GatewayEmbeddingCall
}

/** One decoded token-count request. */
export interface GatewayTokenCountCall {
  readonly request: Omit<CanonicalRequest, 'metadata' | 'signal'>
  response(answer: TokenCountResponse, context: GatewayAnswerContext): Record<string, unknown>
}

/** A token-count route (Anthropic `POST /v1/messages/count_tokens`). */
export interface GatewayTokenCountCodec extends GatewayCodecBase {
  readonly kind: 'count-tokens'
  decode(body: Record<string, unknown>): GatewayTokenCountCall
}

/** A model-list route (`GET /v1/models`). */
export interface GatewayModelListCodec extends GatewayCodecBase {
  readonly kind: 'model-list'
  list(models: readonly ModelListing[]): Record<string, unknown>
}

/** A one-model route (`GET /v1/models/{model}`); the path parameter `model` names it. */
export interface GatewayModelCodec extends GatewayCodecBase {
  readonly kind: 'model'
  model(listing: ModelListing): Record<string, unknown>
}

/** How the gateway serves one route. */
export type GatewayCodec =
  | GatewayChatCodec
  | GatewayEmbeddingCodec
  | GatewayTokenCountCodec
  | GatewayModelListCodec
  | GatewayModelCodec
