/**
 * The OpenAI Chat Completions and Embeddings wire shapes, as the API reference documents them,
 * limited to the fields the router reads or writes. OpenAI, Azure OpenAI, vLLM and every
 * OpenAI-compatible server share them, so the provider clients of all four import these types.
 */

/** A text or image part of a user message. */
export type OpenAIContentPart =
  | { type: 'text'; text: string }
  | { type: 'image_url'; image_url: { url: string; detail?: 'auto' | 'low' | 'high' } }

/** A tool call of an assistant message. */
export interface OpenAIToolCall {
  id: string
  type: 'function'
  function: { name: string; arguments: string }
}

/** One message of `messages`. */
export type OpenAIMessage =
  | { role: 'system' | 'developer'; content: string; name?: string }
  | { role: 'user'; content: string | OpenAIContentPart[]; name?: string }
  | { role: 'assistant'; content: string | null; tool_calls?: OpenAIToolCall[]; name?: string }
  | { role: 'tool'; content: string; tool_call_id: string }

/** A function tool definition. */
export interface OpenAITool {
  type: 'function'
  function: { name: string; description?: string; parameters: Record<string, unknown>; strict?: boolean }
}

/** The `tool_choice` field. */
export type OpenAIToolChoice = 'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } }

/** `POST /chat/completions` request body. */
export interface OpenAIChatRequest {
  model: string
  messages: OpenAIMessage[]
  tools?: OpenAITool[]
  tool_choice?: OpenAIToolChoice
  stop?: string[]
  temperature?: number
  top_p?: number
  max_tokens?: number
  max_completion_tokens?: number
  response_format?: Record<string, unknown>
  seed?: number
  presence_penalty?: number
  frequency_penalty?: number
  parallel_tool_calls?: boolean
  reasoning_effort?: string
  user?: string
  top_k?: number
  stream?: boolean
  stream_options?: { include_usage: boolean }
}

/** A web citation of a message (search models). */
export interface OpenAIAnnotation {
  type: 'url_citation'
  url_citation: { url: string; title?: string; start_index?: number; end_index?: number }
}

/** The `usage` object of a completion or of the last stream chunk. */
export interface OpenAIUsage {
  prompt_tokens: number
  completion_tokens?: number
  total_tokens?: number
  prompt_tokens_details?: { cached_tokens?: number } | null
  completion_tokens_details?: { reasoning_tokens?: number } | null
}

/** A non-streamed `chat.completion` answer. */
export interface OpenAIChatResponse {
  id: string
  object: 'chat.completion'
  created: number
  model: string
  choices: Array<{
    index: number
    message: {
      role: 'assistant'
      content: string | null
      tool_calls?: OpenAIToolCall[]
      refusal?: string | null
      /** The reasoning text vLLM, DeepSeek and other compatible servers return. */
      reasoning_content?: string | null
      annotations?: OpenAIAnnotation[]
    }
    finish_reason: string | null
  }>
  usage?: OpenAIUsage
}

/** One tool-call fragment of a stream delta; only `index` is always present. */
export interface OpenAIToolCallDelta {
  index: number
  id?: string
  type?: 'function'
  function?: { name?: string; arguments?: string }
}

/** One `chat.completion.chunk` event of a stream. */
export interface OpenAIChatChunk {
  id: string
  object: 'chat.completion.chunk'
  created: number
  model: string
  choices: Array<{
    index: number
    delta: {
      role?: 'assistant'
      content?: string | null
      tool_calls?: OpenAIToolCallDelta[]
      refusal?: string | null
      reasoning_content?: string | null
      annotations?: OpenAIAnnotation[]
    }
    finish_reason: string | null
  }>
  usage?: OpenAIUsage | null
}

/** `POST /embeddings` request body. */
export interface OpenAIEmbeddingRequest {
  model: string
  input: string[]
  encoding_format: 'float'
}

/** `POST /embeddings` answer. */
export interface OpenAIEmbeddingResponse {
  object: 'list'
  data: Array<{ object: 'embedding'; index: number; embedding: number[] }>
  model: string
  usage?: { prompt_tokens: number; total_tokens: number }
}
