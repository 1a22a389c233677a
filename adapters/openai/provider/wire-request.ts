/**
 * Canonical request → OpenAI Chat Completions and Embeddings request bodies. Shared by the OpenAI,
 * Azure OpenAI, vLLM and generic OpenAI-compatible clients; the only dialect difference they need
 * is which field carries the output token limit.
 */
import {
  type CanonicalMessage,
  type CanonicalRequest,
  type ContentPart,
  ContinuumError,
  type EmbeddingRequest,
} from '../../../src/index'
import type {
  OpenAIChatRequest,
  OpenAIContentPart,
  OpenAIEmbeddingRequest,
  OpenAIMessage,
  OpenAIToolChoice,
} from './wire'

/** Dialect switches of the OpenAI-shaped protocols. */
export interface OpenAIWireDialect {
  /**
   * Field that carries `maxTokens`: OpenAI deprecated `max_tokens` for `max_completion_tokens`
   * (reasoning models refuse the old one) while vLLM and most compatible servers only know `max_tokens`.
   */
  maxTokensField: 'max_tokens' | 'max_completion_tokens'
}

/** Builds a `/chat/completions` body; `stream` adds `stream_options.include_usage` so usage arrives last. */
export function toOpenAIChatRequest(
  request: CanonicalRequest,
  model: string,
  dialect: OpenAIWireDialect,
  stream: boolean,
): OpenAIChatRequest {
  const messages: OpenAIMessage[] = []
  if (request.system !== undefined && request.system !== '') {
    messages.push({ role: 'system', content: request.system })
  }
  for (const message of request.messages) messages.push(toOpenAIMessage(message))

  const body: OpenAIChatRequest = { model, messages }
  if (request.tools !== undefined && request.tools.length > 0) {
    body.tools = request.tools.map((tool) => ({
      type: 'function',
      function: {
        name: tool.name,
        ...(tool.description === undefined ? {} : { description: tool.description }),
        parameters: tool.parameters,
      },
    }))
  }
  if (request.toolChoice !== undefined) body.tool_choice = toOpenAIToolChoice(request.toolChoice)
  if (request.stop !== undefined && request.stop.length > 0) body.stop = request.stop
  if (request.temperature !== undefined) body.temperature = request.temperature
  if (request.topP !== undefined) body.top_p = request.topP
  if (request.maxTokens !== undefined) body[dialect.maxTokensField] = request.maxTokens
  if (stream) {
    body.stream = true
    body.stream_options = { include_usage: true }
  }
  return body
}

/** Builds an `/embeddings` body asking for float vectors (not base64) so they decode as JSON. */
export function toOpenAIEmbeddingRequest(request: EmbeddingRequest, model: string): OpenAIEmbeddingRequest {
  return { model, input: request.input, encoding_format: 'float' }
}

function toOpenAIToolChoice(choice: NonNullable<CanonicalRequest['toolChoice']>): OpenAIToolChoice {
  if (typeof choice === 'string') return choice
  return { type: 'function', function: { name: choice.name } }
}

function toOpenAIMessage(message: CanonicalMessage): OpenAIMessage {
  switch (message.role) {
    case 'system':
      return { role: 'system', content: textOf(message.content, 'system') }
    case 'user': {
      const content =
        typeof message.content === 'string' ? message.content : message.content.map(toOpenAIContentPart)
      return message.name === undefined
        ? { role: 'user', content }
        : { role: 'user', content, name: message.name }
    }
    case 'assistant': {
      const text = textOf(message.content, 'assistant')
      const toolCalls = message.toolCalls ?? []
      const wire: OpenAIMessage = {
        role: 'assistant',
        content: text === '' && toolCalls.length > 0 ? null : text,
      }
      if (toolCalls.length > 0) {
        wire.tool_calls = toolCalls.map((call) => ({
          id: call.id,
          type: 'function',
          function: { name: call.name, arguments: call.arguments },
        }))
      }
      return wire
    }
    case 'tool': {
      if (message.toolCallId === undefined || message.toolCallId === '') {
        throw new ContinuumError('CONTINUUM_SCHEMA_VIOLATION', 'A tool message needs toolCallId', {
          details: { path: 'messages[].toolCallId' },
        })
      }
      return { role: 'tool', content: textOf(message.content, 'tool'), tool_call_id: message.toolCallId }
    }
  }
}

function toOpenAIContentPart(part: ContentPart): OpenAIContentPart {
  if (part.type === 'text') return { type: 'text', text: part.text }
  if (part.url !== undefined) return { type: 'image_url', image_url: { url: part.url } }
  if (part.data !== undefined) {
    // OpenAI takes inline images as data URLs.
    const mediaType = part.mediaType ?? 'image/png'
    return { type: 'image_url', image_url: { url: `data:${mediaType};base64,${part.data}` } }
  }
  throw new ContinuumError('CONTINUUM_SCHEMA_VIOLATION', 'An image part needs url or data', {
    details: { path: 'messages[].content[].url' },
  })
}

/** Only user messages may carry images; other roles take the text parts joined. */
function textOf(content: string | ContentPart[], role: string): string {
  if (typeof content === 'string') return content
  let text = ''
  for (const part of content) {
    if (part.type !== 'text') {
      throw new ContinuumError(
        'CONTINUUM_NOT_SUPPORTED',
        `Image parts are not supported in ${role} messages`,
        {
          details: { path: 'messages[].content' },
        },
      )
    }
    text += part.text
  }
  return text
}
