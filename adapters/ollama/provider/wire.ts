/**
 * Ollama's native chat and embed wire shapes (`/api/chat`, `/api/embed`, per docs/api.md of
 * ollama/ollama) and their translation to and from the router's canonical shapes. Ollama carries
 * tool arguments as objects and tool calls without ids, and streams NDJSON lines that each hold a
 * whole message fragment; the last line has `done: true` with token counts.
 */

import {
  type CanonicalRequest,
  type CanonicalResponse,
  ContinuumError,
  contentParts,
  contentText,
  type FinishReason,
  isRecord,
  newToolCallId,
  parseToolArguments,
  protocolError,
  type ToolCall,
  toolArgumentsText,
  toolNameFor,
  type Usage,
} from '../../../src/provider-kit/index'
import { toOpenAIFunctionTool } from '../../openai/provider/wire-request'

/** A message of `/api/chat`. */
export interface OllamaMessage {
  role: 'system' | 'user' | 'assistant' | 'tool'
  content: string
  images?: string[]
  tool_calls?: Array<{ function: { name: string; arguments: Record<string, unknown> } }>
  tool_name?: string
}

/** The body of `POST /api/chat`. */
export interface OllamaChatRequest {
  model: string
  messages: OllamaMessage[]
  tools?: Array<{ type: 'function'; function: { name: string; description?: string; parameters: unknown } }>
  stream: boolean
  options?: { temperature?: number; top_p?: number; num_predict?: number; stop?: string[] }
}

/** Translates a canonical request into an `/api/chat` body. */
export function toOllamaChatRequest(
  request: CanonicalRequest,
  model: string,
  stream: boolean,
): OllamaChatRequest {
  const messages: OllamaMessage[] = []
  if (request.system !== undefined) messages.push({ role: 'system', content: request.system })
  request.messages.forEach((message, index) => {
    const wire: OllamaMessage = { role: message.role, content: contentText(message.content) }
    const images: string[] = []
    for (const part of contentParts(message.content)) {
      // Ollama takes base64 image data only; a URL image cannot be forwarded.
      if (part.type === 'image' && part.data !== undefined) images.push(part.data)
    }
    if (images.length > 0) wire.images = images
    if (message.toolCalls !== undefined && message.toolCalls.length > 0) {
      wire.tool_calls = message.toolCalls.map((call, callIndex) => ({
        function: {
          name: call.name,
          arguments: parseToolArguments(
            call.arguments,
            `messages[${index}].toolCalls[${callIndex}].arguments`,
          ),
        },
      }))
    }
    if (message.role === 'tool') {
      const name = toolNameFor(request.messages, message)
      if (name !== undefined) wire.tool_name = name
    }
    messages.push(wire)
  })
  const body: OllamaChatRequest = { model, messages, stream }
  // Ollama has no tool_choice: 'none' is honoured by not offering the tools, 'auto' is its way;
  // a required or named tool cannot be enforced, so it is refused rather than dropped.
  const choice = request.toolChoice
  if (
    request.tools !== undefined &&
    request.tools.length > 0 &&
    (choice === 'required' || typeof choice === 'object')
  ) {
    throw new ContinuumError(
      'CONTINUUM_NOT_SUPPORTED',
      'tool_choice: a required or named tool is not supported by Ollama',
      {
        details: { path: 'tool_choice' },
      },
    )
  }
  if (request.tools !== undefined && request.tools.length > 0 && request.toolChoice !== 'none') {
    body.tools = request.tools.map((tool) => toOpenAIFunctionTool(tool, false))
  }
  const options: NonNullable<OllamaChatRequest['options']> = {}
  if (request.temperature !== undefined) options.temperature = request.temperature
  if (request.topP !== undefined) options.top_p = request.topP
  if (request.maxTokens !== undefined) options.num_predict = request.maxTokens
  if (request.stop !== undefined && request.stop.length > 0) options.stop = request.stop
  if (Object.keys(options).length > 0) body.options = options
  return body
}

/** Maps Ollama's `done_reason`; tool calls win over `stop`, as in OpenAI's finish reasons. */
export function ollamaFinishReason(doneReason: unknown, sawToolCalls: boolean): FinishReason {
  if (doneReason === 'length') return 'length'
  if (sawToolCalls) return 'tool_calls'
  return 'stop'
}

/** Token counts of a final line, when it has them. */
export function ollamaUsage(line: Record<string, unknown>): Usage | undefined {
  const input = line.prompt_eval_count
  const output = line.eval_count
  if (typeof input !== 'number' && typeof output !== 'number') return undefined
  return {
    inputTokens: typeof input === 'number' ? input : 0,
    outputTokens: typeof output === 'number' ? output : 0,
  }
}

/** The tool calls of one message, with generated ids. */
export function ollamaToolCalls(message: Record<string, unknown>, providerId: string): ToolCall[] {
  const calls = message.tool_calls
  if (calls === undefined || calls === null) return []
  if (!Array.isArray(calls)) throw protocolError(providerId, 'tool_calls that is not an array')
  return calls.map((call) => {
    const fn = isRecord(call) ? call.function : undefined
    if (!isRecord(fn) || typeof fn.name !== 'string')
      throw protocolError(providerId, 'a tool call without a name')
    const args = fn.arguments
    return {
      id: newToolCallId(),
      name: fn.name,
      arguments: typeof args === 'string' ? args : toolArgumentsText(args, providerId),
    }
  })
}

/** Translates a non-streamed `/api/chat` answer. */
export function fromOllamaChatResponse(
  body: unknown,
  providerId: string,
  fallbackModel: string,
): CanonicalResponse {
  if (!isRecord(body) || !isRecord(body.message))
    throw protocolError(providerId, 'a chat answer without a message')
  const toolCalls = ollamaToolCalls(body.message, providerId)
  const content = typeof body.message.content === 'string' ? body.message.content : ''
  const response: CanonicalResponse = {
    id: `ollama-${typeof body.created_at === 'string' ? body.created_at : Date.now()}`,
    model: typeof body.model === 'string' ? body.model : fallbackModel,
    provider: providerId,
    content,
    toolCalls,
    finishReason: ollamaFinishReason(body.done_reason, toolCalls.length > 0),
  }
  const usage = ollamaUsage(body)
  if (usage !== undefined) response.usage = usage
  return response
}

/** Reads `/api/embed`'s `{ embeddings: number[][] }`. */
export function fromOllamaEmbedResponse(body: unknown, providerId: string, expected: number): number[][] {
  if (!isRecord(body) || !Array.isArray(body.embeddings))
    throw protocolError(providerId, 'an embed answer without embeddings')
  const embeddings = body.embeddings as unknown[]
  if (embeddings.length !== expected)
    throw protocolError(providerId, 'a different number of embeddings than inputs')
  for (const vector of embeddings) {
    if (!Array.isArray(vector) || vector.some((value) => typeof value !== 'number')) {
      throw protocolError(providerId, 'an embedding that is not a number array')
    }
  }
  return embeddings as number[][]
}
