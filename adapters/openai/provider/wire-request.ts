/**
 * Canonical request → OpenAI Chat Completions and Embeddings request bodies. Shared by the OpenAI,
 * Azure OpenAI, vLLM and generic OpenAI-compatible clients; the only dialect difference they need
 * is which field carries the output token limit.
 */
import {
  type CanonicalMessage,
  type CanonicalParameter,
  type CanonicalRequest,
  type ContentPart,
  ContinuumError,
  type EmbeddingRequest,
  type ToolDefinition,
} from '../../../src/provider-kit/index'
import type {
  OpenAIChatRequest,
  OpenAIContentPart,
  OpenAIEmbeddingRequest,
  OpenAIMessage,
  OpenAITool,
  OpenAIToolChoice,
} from './wire'

/**
 * A canonical tool as an OpenAI function tool, the shape TGI's and Ollama's chat APIs take too.
 * `strict` goes only where the server honours it (OpenAI's dialect); the others get the rest.
 */
export function toOpenAIFunctionTool(tool: ToolDefinition, withStrict: boolean): OpenAITool {
  return {
    type: 'function',
    function: {
      name: tool.name,
      ...(tool.description === undefined ? {} : { description: tool.description }),
      parameters: tool.parameters,
      ...(!withStrict || tool.strict === undefined ? {} : { strict: tool.strict }),
    },
  }
}

/** The canonical parameters every OpenAI-shaped client puts on the Chat Completions wire. */
export const OPENAI_CHAT_PARAMETERS: readonly CanonicalParameter[] = Object.freeze([
  'responseFormat',
  'seed',
  'presencePenalty',
  'frequencyPenalty',
  'parallelToolCalls',
  'reasoningEffort',
  'user',
  // Prefixes of 1,024 tokens and more are cached by the server itself: the mark needs no field.
  'promptCaching',
  'strictTools',
] as const)

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
    body.tools = request.tools.map((tool) => toOpenAIFunctionTool(tool, true))
  }
  if (request.toolChoice !== undefined) body.tool_choice = toOpenAIToolChoice(request.toolChoice)
  if (request.stop !== undefined && request.stop.length > 0) body.stop = request.stop
  if (request.temperature !== undefined) body.temperature = request.temperature
  if (request.topP !== undefined) body.top_p = request.topP
  if (request.maxTokens !== undefined) body[dialect.maxTokensField] = request.maxTokens
  const format = request.responseFormat
  if (format?.type === 'json_object') body.response_format = { type: 'json_object' }
  else if (format?.type === 'json_schema') {
    body.response_format = {
      type: 'json_schema',
      json_schema: {
        name: format.name,
        schema: format.schema,
        ...(format.description === undefined ? {} : { description: format.description }),
        ...(format.strict === undefined ? {} : { strict: format.strict }),
      },
    }
  }
  if (request.seed !== undefined) body.seed = request.seed
  if (request.presencePenalty !== undefined) body.presence_penalty = request.presencePenalty
  if (request.frequencyPenalty !== undefined) body.frequency_penalty = request.frequencyPenalty
  if (request.parallelToolCalls !== undefined) body.parallel_tool_calls = request.parallelToolCalls
  if (request.reasoning?.effort !== undefined) body.reasoning_effort = request.reasoning.effort
  if (request.user !== undefined) body.user = request.user
  // vLLM's sampling extension; providers that do not declare `topK` are never sent a request using it.
  if (request.topK !== undefined) body.top_k = request.topK
  if (stream) {
    body.stream = true
    body.stream_options = { include_usage: true }
  }
  return body
}

/**
 * The body of a same-dialect request: the client's own, with only the model replaced. A stream
 * always asks for usage (the router accounts tokens); the gateway leaves the usage chunk out when
 * the client did not ask for it.
 */
export function nativeChatBody(request: CanonicalRequest, stream: boolean): Record<string, unknown> {
  const sent = request.native?.body
  // Nothing to change (the model is the client's, no stream members): the body as it came.
  if (
    !stream &&
    sent?.model === request.model &&
    sent.stream === undefined &&
    sent.stream_options === undefined
  )
    return sent
  const body: Record<string, unknown> = { ...sent, model: request.model }
  if (stream) {
    const options = body.stream_options
    body.stream = true
    body.stream_options = {
      ...(typeof options === 'object' && options !== null ? options : {}),
      include_usage: true,
    }
  } else {
    delete body.stream
    delete body.stream_options
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
