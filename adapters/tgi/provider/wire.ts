/**
 * Text Generation Inference's Messages API (`POST /v1/chat/completions`), TGI's OpenAI-compatible
 * chat route, and its translation to and from canonical shapes. TGI differs from OpenAI in a few
 * documented ways that this file absorbs: SSE lines written as `data:` without a space, tool call
 * `arguments` sent as an object by TGI 2.x and as JSON text by 3.x, `eos_token` as a finish
 * reason, and `{"error", "error_type"}` events inside a stream.
 */

import type { CanonicalRequest, CanonicalResponse, FinishReason, ToolCall, Usage } from '../../../src/index'
import {
  contentParts,
  contentText,
  countOrUndefined,
  isRecord,
  protocolError,
  toolArgumentsText,
} from '../../../src/provider-kit/index'
import { toOpenAIFunctionTool } from '../../openai/provider/wire-request'

type WireContent =
  | string
  | Array<{ type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } }>

/** One message of the Messages API. */
export interface TgiChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool'
  content?: WireContent
  tool_calls?: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }>
  tool_call_id?: string
}

/** The body of `POST /v1/chat/completions`. */
export interface TgiChatRequest {
  model: string
  messages: TgiChatMessage[]
  stream: boolean
  stream_options?: { include_usage: boolean }
  max_tokens?: number
  temperature?: number
  top_p?: number
  stop?: string[]
  tools?: Array<{ type: 'function'; function: { name: string; description?: string; parameters: unknown } }>
  tool_choice?: 'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } }
}

function wireContent(content: CanonicalRequest['messages'][number]['content']): WireContent {
  if (typeof content === 'string') return content
  if (content.every((part) => part.type === 'text')) return contentText(content)
  return contentParts(content).map((part) => {
    if (part.type === 'text') return { type: 'text', text: part.text }
    const url = part.url ?? `data:${part.mediaType ?? 'image/png'};base64,${part.data ?? ''}`
    return { type: 'image_url', image_url: { url } }
  })
}

/** Translates a canonical request into a Messages API body. */
export function toTgiChatRequest(request: CanonicalRequest, stream: boolean): TgiChatRequest {
  const messages: TgiChatMessage[] = []
  if (request.system !== undefined) messages.push({ role: 'system', content: request.system })
  for (const message of request.messages) {
    const wire: TgiChatMessage = { role: message.role, content: wireContent(message.content) }
    if (message.toolCalls !== undefined && message.toolCalls.length > 0) {
      wire.tool_calls = message.toolCalls.map((call) => ({
        id: call.id,
        type: 'function',
        function: { name: call.name, arguments: call.arguments },
      }))
    }
    if (message.toolCallId !== undefined) wire.tool_call_id = message.toolCallId
    messages.push(wire)
  }
  // TGI serves one model and ignores the name; "tgi" is what its docs send.
  const body: TgiChatRequest = { model: request.model === '' ? 'tgi' : request.model, messages, stream }
  if (stream) body.stream_options = { include_usage: true }
  if (request.maxTokens !== undefined) body.max_tokens = request.maxTokens
  if (request.temperature !== undefined) body.temperature = request.temperature
  if (request.topP !== undefined) body.top_p = request.topP
  if (request.stop !== undefined && request.stop.length > 0) body.stop = request.stop
  if (request.tools !== undefined && request.tools.length > 0) {
    body.tools = request.tools.map((tool) => toOpenAIFunctionTool(tool, false))
    const choice = request.toolChoice
    if (choice !== undefined) {
      body.tool_choice =
        typeof choice === 'string' ? choice : { type: 'function', function: { name: choice.name } }
    }
  }
  return body
}

/** Maps TGI's finish reasons (OpenAI's plus `eos_token` and `stop_sequence`). */
export function tgiFinishReason(reason: unknown, sawToolCalls: boolean): FinishReason {
  if (sawToolCalls || reason === 'tool_calls') return 'tool_calls'
  if (reason === 'length') return 'length'
  if (reason === 'content_filter') return 'content_filter'
  return 'stop'
}

/** `usage` of an answer or chunk, when present. */
export function tgiUsage(value: unknown): Usage | undefined {
  if (!isRecord(value)) return undefined
  const inputTokens = countOrUndefined(value.prompt_tokens)
  const outputTokens = countOrUndefined(value.completion_tokens)
  if (inputTokens === undefined || outputTokens === undefined) return undefined
  return { inputTokens, outputTokens }
}

/** Tool call arguments as JSON text, whichever form TGI sent them in. */
export function argumentsText(value: unknown, providerId: string): string {
  return typeof value === 'string' ? value : toolArgumentsText(value, providerId)
}

/** Translates a non-streamed Messages API answer. */
export function fromTgiChatResponse(
  body: unknown,
  providerId: string,
  fallbackModel: string,
): CanonicalResponse {
  if (!isRecord(body) || !Array.isArray(body.choices))
    throw protocolError(providerId, 'an answer without choices')
  const choice: unknown = body.choices[0]
  if (!isRecord(choice) || !isRecord(choice.message))
    throw protocolError(providerId, 'a choice without a message')
  const message = choice.message
  const toolCalls: ToolCall[] = []
  if (Array.isArray(message.tool_calls)) {
    message.tool_calls.forEach((call: unknown, index) => {
      if (!isRecord(call) || !isRecord(call.function) || typeof call.function.name !== 'string') {
        throw protocolError(providerId, 'a tool call without a name')
      }
      const id = typeof call.id === 'string' && call.id !== '' ? call.id : `call_${index}`
      toolCalls.push({
        id,
        name: call.function.name,
        arguments: argumentsText(call.function.arguments, providerId),
      })
    })
  }
  const response: CanonicalResponse = {
    id: typeof body.id === 'string' && body.id !== '' ? body.id : `tgi-${String(body.created ?? Date.now())}`,
    model: typeof body.model === 'string' ? body.model : fallbackModel,
    provider: providerId,
    content: typeof message.content === 'string' ? message.content : '',
    toolCalls,
    finishReason: tgiFinishReason(choice.finish_reason, toolCalls.length > 0),
  }
  const usage = tgiUsage(body.usage)
  if (usage !== undefined) response.usage = usage
  return response
}
