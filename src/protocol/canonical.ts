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
  /** Arguments must follow the schema exactly (OpenAI `strict`, Anthropic strict tool use). */
  strict?: boolean
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

/**
 * A request dialect a provider can be handed verbatim: OpenAI Chat Completions, the OpenAI
 * Responses API, or Anthropic Messages.
 */
export type NativeDialect = 'openai-chat' | 'openai-responses' | 'anthropic-messages'

/**
 * The optional canonical parameters beyond the base fields (model, messages, system, tools, tool
 * choice, stop, temperature, top_p, max tokens). A provider declares the ones it can put on its
 * wire in `capabilities.parameters`; the router refuses to send a request using another one to it.
 */
export type CanonicalParameter =
  | 'responseFormat'
  | 'topK'
  | 'seed'
  | 'presencePenalty'
  | 'frequencyPenalty'
  | 'parallelToolCalls'
  | 'reasoningEffort'
  | 'reasoningBudget'
  | 'user'
  | 'promptCaching'
  | 'strictTools'

/** Every {@link CanonicalParameter}, in a stable order. */
export const CANONICAL_PARAMETERS: readonly CanonicalParameter[] = Object.freeze([
  'responseFormat',
  'topK',
  'seed',
  'presencePenalty',
  'frequencyPenalty',
  'parallelToolCalls',
  'reasoningEffort',
  'reasoningBudget',
  'user',
  'promptCaching',
  'strictTools',
])

/** The shape the answer must take. */
export type ResponseFormat =
  | { type: 'json_object' }
  | {
      type: 'json_schema'
      /** The schema's name (OpenAI requires one; Anthropic has none, so `response` is used). */
      name: string
      schema: Record<string, unknown>
      description?: string
      strict?: boolean
    }

/** How much the model may reason before answering. */
export type ReasoningEffort = 'none' | 'minimal' | 'low' | 'medium' | 'high' | 'xhigh' | 'max'

/**
 * The client's request exactly as it arrived (decrypted, after every stage ran, so redactions are
 * in it), for a provider that speaks the same dialect: it forwards `body` with only the model
 * replaced. It holds content: like the rest of the request it must never be logged, put in an
 * error, an event or a metric.
 */
export interface NativeRequest {
  readonly dialect: NativeDialect
  readonly body: Readonly<Record<string, unknown>>
  /**
   * Parameters (or message parts, by path) only this dialect carries: a provider of another
   * dialect is refused the request, naming the first of them. Names are schema keys, never values.
   */
  readonly only: readonly string[]
  /** The client's name of each canonical parameter it set, so refusals name what the client wrote. */
  readonly names: Readonly<Partial<Record<CanonicalParameter, string>>>
  /**
   * Whether some of the request's content (a document, a file, audio, a prediction) has no
   * canonical form, so a classifier reading the canonical messages cannot have read all of it:
   * `classification_based` routing then treats the request as `restricted`.
   * @default false
   */
  readonly opaqueContent?: boolean
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
  /** Structured output; absent means free text. */
  responseFormat?: ResponseFormat
  /** Sample only from the K most likely tokens. */
  topK?: number
  seed?: number
  presencePenalty?: number
  frequencyPenalty?: number
  /** Whether the model may call several tools in one turn. */
  parallelToolCalls?: boolean
  /** Reasoning effort (OpenAI `reasoning_effort`, Anthropic `output_config.effort`) and budget in tokens. */
  reasoning?: { effort?: ReasoningEffort; budgetTokens?: number }
  /** An opaque id of the end user, for the provider's abuse monitoring (never routed on). */
  user?: string
  /**
   * The client marked its prompt prefix for caching (Anthropic `cache_control`): providers that
   * cache prefixes by themselves (OpenAI, vLLM) declare it, the Anthropic client sends the mark.
   */
  promptCaching?: boolean
  /** The request as the client sent it, for a provider of the same dialect. */
  native?: NativeRequest
  metadata?: RequestMetadata
  /** Aborts the request; providers pass it to their HTTP call. */
  signal?: AbortSignal
}

/** The canonical parameters a request uses, for the router's capability check. */
export function parametersOf(request: CanonicalRequest): CanonicalParameter[] {
  const used: CanonicalParameter[] = []
  if (request.responseFormat !== undefined) used.push('responseFormat')
  if (request.topK !== undefined) used.push('topK')
  if (request.seed !== undefined) used.push('seed')
  if (request.presencePenalty !== undefined) used.push('presencePenalty')
  if (request.frequencyPenalty !== undefined) used.push('frequencyPenalty')
  if (request.parallelToolCalls !== undefined) used.push('parallelToolCalls')
  if (request.reasoning?.effort !== undefined) used.push('reasoningEffort')
  if (request.reasoning?.budgetTokens !== undefined) used.push('reasoningBudget')
  if (request.user !== undefined) used.push('user')
  if (request.promptCaching === true) used.push('promptCaching')
  if (request.tools?.some((tool) => tool.strict === true) === true) used.push('strictTools')
  return used
}

/** How the client named a canonical parameter (its own key when it came through the gateway). */
export function parameterName(request: CanonicalRequest, parameter: CanonicalParameter): string {
  return request.native?.names[parameter] ?? parameter
}

/** Token counts of one request. */
export interface Usage {
  /** Every input token, cached ones included. */
  inputTokens: number
  /** Every output token, reasoning included. */
  outputTokens: number
  /** Input tokens read from the provider's prompt cache (part of `inputTokens`). */
  cacheReadTokens?: number
  /** Input tokens written to the provider's prompt cache (part of `inputTokens`). */
  cacheWriteTokens?: number
  /** Output tokens spent reasoning (part of `outputTokens`). */
  reasoningTokens?: number
}

/** A web source the answer cites (OpenAI `url_citation`, Anthropic `web_search_result_location`). */
export interface Citation {
  url: string
  title?: string
  /** The cited span of the answer's text, as characters from its start, when the provider says. */
  start?: number
  end?: number
  /** The text cited, when the provider says. */
  citedText?: string
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
  /** The model's visible reasoning (Anthropic thinking), when the provider returns it. */
  reasoning?: string
  /** The model's refusal text (OpenAI `message.refusal`), kept apart from `content`. */
  refusal?: string
  /** Web sources the text cites. */
  citations?: Citation[]
  /** The provider's answer as it came, when it answered a {@link NativeRequest} in its dialect. */
  native?: { readonly dialect: NativeDialect; readonly body: Record<string, unknown> }
}

/** One part of a streamed answer, noun-then-verb like the AI SDK's stream parts. */
export type StreamChunk =
  | { type: 'text-delta'; text: string }
  | { type: 'tool-call-delta'; index: number; id?: string; name?: string; argumentsDelta: string }
  | { type: 'usage'; usage: Usage }
  | { type: 'finish'; finishReason: FinishReason }
  | { type: 'reasoning-delta'; text: string }
  | { type: 'refusal-delta'; text: string }
  | { type: 'citation'; citation: Citation }
  /**
   * One event of a native stream, as the provider sent it, for the client of the same dialect; a
   * native stream still carries the canonical chunks (text, usage, finish) beside these.
   */
  | {
      type: 'native'
      dialect: NativeDialect
      event: { readonly name?: string; readonly data: Record<string, unknown> }
    }
  /** Only emitted by the router, for a stream that failed after delivering chunks. */
  | { type: 'error'; error: ContinuumError }

/** A token count of a request, without running it (Anthropic `count_tokens`). */
export interface TokenCountResponse {
  /** The id of the provider that counted. */
  provider: string
  /** Input tokens the request would use. */
  inputTokens: number
}

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
