/**
 * The Anthropic Messages API wire shapes (`POST /v1/messages`, `anthropic-version: 2023-06-01`)
 * as its reference documents them, limited to what the router reads or writes: content blocks,
 * tools, the answer and the stream events.
 */

/** Where an image block's bytes come from. */
export type AnthropicImageSource =
  | { type: 'base64'; media_type: string; data: string }
  | { type: 'url'; url: string }

/** A content block of a request message. */
export type AnthropicRequestBlock =
  | { type: 'text'; text: string }
  | { type: 'image'; source: AnthropicImageSource }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> }
  | { type: 'tool_result'; tool_use_id: string; content: string; is_error?: boolean }

/** One message of `messages`: Anthropic has only user and assistant turns. */
export interface AnthropicMessage {
  role: 'user' | 'assistant'
  content: string | AnthropicRequestBlock[]
}

/** A tool definition. */
export interface AnthropicTool {
  name: string
  description?: string
  input_schema: Record<string, unknown>
  strict?: boolean
}

/** The `tool_choice` field. */
export type AnthropicToolChoice = (
  | { type: 'auto' }
  | { type: 'any' }
  | { type: 'none' }
  | { type: 'tool'; name: string }
) & { disable_parallel_tool_use?: boolean }

/** `POST /v1/messages` request body. */
export interface AnthropicMessagesRequest {
  model: string
  max_tokens: number
  messages: AnthropicMessage[]
  system?: string
  tools?: AnthropicTool[]
  tool_choice?: AnthropicToolChoice
  stop_sequences?: string[]
  temperature?: number
  top_p?: number
  top_k?: number
  output_config?: Record<string, unknown>
  thinking?: { type: 'enabled'; budget_tokens: number }
  metadata?: { user_id: string }
  cache_control?: { type: 'ephemeral' }
  stream?: boolean
}

/** A content block of an answer. Thinking and other blocks are read as unknown types and skipped. */
export type AnthropicResponseBlock =
  | { type: 'text'; text: string; citations?: unknown[] }
  | { type: 'tool_use'; id: string; name: string; input: unknown }
  | { type: string; [key: string]: unknown }

/** Token counts; cache reads and writes are billed input on top of `input_tokens`. */
export interface AnthropicUsage {
  input_tokens?: number
  output_tokens?: number
  cache_creation_input_tokens?: number | null
  cache_read_input_tokens?: number | null
  output_tokens_details?: { thinking_tokens?: number } | null
}

/** A non-streamed answer. */
export interface AnthropicMessagesResponse {
  id: string
  type: 'message'
  role: 'assistant'
  model: string
  content: AnthropicResponseBlock[]
  stop_reason: string | null
  stop_sequence: string | null
  usage: AnthropicUsage
}

/** One event of a `stream: true` answer (the SSE `event:` name equals `type`). */
export type AnthropicStreamEvent =
  | { type: 'message_start'; message: { id: string; model: string; usage?: AnthropicUsage } }
  | { type: 'content_block_start'; index: number; content_block: AnthropicResponseBlock }
  | {
      type: 'content_block_delta'
      index: number
      delta:
        | { type: 'text_delta'; text: string }
        | { type: 'input_json_delta'; partial_json: string }
        | { type: string }
    }
  | { type: 'content_block_stop'; index: number }
  | {
      type: 'message_delta'
      delta: { stop_reason: string | null; stop_sequence?: string | null }
      usage?: AnthropicUsage
    }
  | { type: 'message_stop' }
  | { type: 'ping' }
  | { type: 'error'; error: { type: string; message?: string } }
