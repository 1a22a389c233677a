/**
 * The canonical inference shapes every provider speaks to the router. Provider clients translate
 * their wire protocol into these and back, so routing, fallback, resilience and telemetry are
 * written once against one shape. Changes here are additive only: providers in `adapters/` depend
 * on them.
 */
import type { ContinuumError } from '../errors'

/** Who wrote a message. */
export type Role = 'system' | 'user' | 'assistant' | 'tool'

/** One part of a multi-part message: text or an image (by URL or base64 data). */
export type ContentPart =
  | { type: 'text'; text: string }
  | { type: 'image'; url?: string; data?: string; mediaType?: string }

/** A tool (function) the model may call. */
export interface ToolDefinition {
  name: string
  description?: string
  /** JSON Schema of the arguments object. */
  parameters: Record<string, unknown>
}

/** A tool call the model made. */
export interface ToolCall {
  id: string
  name: string
  /** The arguments as JSON text, exactly as the model produced them. */
  arguments: string
}

/** One message of a conversation. */
export interface CanonicalMessage {
  role: Role
  content: string | ContentPart[]
  /** Tool calls an assistant message made. */
  toolCalls?: ToolCall[]
  /** On a `tool` message: the id of the call it answers. */
  toolCallId?: string
  name?: string
}

/** Sensitivity of a request, most open first. */
export type DataClassification = 'public' | 'internal' | 'confidential' | 'restricted'

/** Content-free facts about a request that routing, audit and telemetry use. */
export interface RequestMetadata {
  callerId?: string
  delegationChain?: string[]
  traceId?: string
  /** Set by the caller or by the router's classifier; drives `classification_based` routing. */
  classification?: DataClassification
  [key: string]: unknown
}

/** A chat/completion request in canonical form. */
export interface CanonicalRequest {
  /** The public model name; the router maps it to a provider-specific name through aliases. */
  model: string
  /** System prompt, kept apart because several protocols (Anthropic, Bedrock) carry it apart. */
  system?: string
  messages: CanonicalMessage[]
  tools?: ToolDefinition[]
  toolChoice?: 'auto' | 'none' | 'required' | { name: string }
  stop?: string[]
  temperature?: number
  topP?: number
  maxTokens?: number
  metadata?: RequestMetadata
  /** Aborts the request; providers pass it to their HTTP call. */
  signal?: AbortSignal
}

/** Token counts of one request. */
export interface Usage {
  inputTokens: number
  outputTokens: number
}

/** Why generation ended. */
export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'error'

/** A complete (non-streamed) answer. */
export interface CanonicalResponse {
  id: string
  /** The model name the provider reports. */
  model: string
  /** The id of the provider that answered. */
  provider: string
  content: string
  toolCalls: ToolCall[]
  finishReason: FinishReason
  usage?: Usage
}

/** One part of a streamed answer, noun-then-verb like the AI SDK's stream parts. */
export type StreamChunk =
  | { type: 'text-delta'; text: string }
  | { type: 'tool-call-delta'; index: number; id?: string; name?: string; argumentsDelta: string }
  | { type: 'usage'; usage: Usage }
  | { type: 'finish'; finishReason: FinishReason }
  /** Only emitted by the router, for a stream that failed after delivering chunks. */
  | { type: 'error'; error: ContinuumError }

/** An embeddings request. */
export interface EmbeddingRequest {
  model: string
  input: string[]
  metadata?: RequestMetadata
  signal?: AbortSignal
}

/** An embeddings answer: one vector per input, in input order. */
export interface EmbeddingResponse {
  model: string
  provider: string
  embeddings: number[][]
  usage?: Usage
}

/** A model the router serves, as model lists show it. */
export interface ModelListing {
  /** The public model name. */
  id: string
  /** Provider ids that serve it. */
  providers: string[]
}
