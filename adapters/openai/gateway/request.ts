/**
 * OpenAI Chat Completions and Embeddings request bodies → canonical requests, for the gateway that
 * serves OpenAI-format clients from the InferenceRouter (the provider direction lives in
 * wire-request.ts). The proxy has already validated the body against the adapter's schema; this
 * checks what the canonical form needs and refuses what it cannot carry (audio, files, `n > 1`,
 * token-array prompts) with a clear code naming the path, never the content.
 */
import {
  type CanonicalMessage,
  type CanonicalRequest,
  type ContentPart,
  ContinuumError,
  type EmbeddingRequest,
  type ToolCall,
  type ToolDefinition,
} from '../../../src/index'
import { isRecord } from '../../../src/provider-kit/index'

/** What the gateway reads from an OpenAI chat request besides the canonical request. */
export interface OpenAIGatewayChat {
  request: CanonicalRequest
  stream: boolean
  /** `stream_options.include_usage`: the stream ends with a usage chunk. */
  includeUsage: boolean
}

/** What the gateway reads from an OpenAI embeddings request. */
export interface OpenAIGatewayEmbedding {
  request: EmbeddingRequest
  encoding: 'float' | 'base64'
}

function invalid(path: string, expectation: string): ContinuumError {
  return new ContinuumError('CONTINUUM_SCHEMA_VIOLATION', `${path}: ${expectation}`, { details: { path } })
}

function unsupported(path: string, what: string): ContinuumError {
  return new ContinuumError('CONTINUUM_NOT_SUPPORTED', `${path}: ${what} is not supported by the gateway`, {
    details: { path },
  })
}

/** Translates a `/v1/chat/completions` body. */
export function fromOpenAIChatRequest(body: Record<string, unknown>): OpenAIGatewayChat {
  if (typeof body.model !== 'string' || body.model === '')
    throw invalid('model', 'must be a non-empty string')
  if (!Array.isArray(body.messages)) throw invalid('messages', 'must be an array')
  if (body.n !== undefined && body.n !== null && body.n !== 1) throw unsupported('n', 'more than one choice')
  const systemParts: string[] = []
  const messages: CanonicalMessage[] = []
  for (const [index, message] of body.messages.entries()) {
    if (!isRecord(message)) throw invalid(`messages[${index}]`, 'must be an object')
    const role = message.role
    // Leading system and developer turns become the canonical system prompt, which every provider carries.
    if ((role === 'system' || role === 'developer') && messages.length === 0) {
      systemParts.push(textOnly(message.content, `messages[${index}].content`))
      continue
    }
    messages.push(toCanonicalMessage(message, index))
  }
  const request: CanonicalRequest = { model: body.model, messages }
  if (systemParts.length > 0) request.system = systemParts.join('\n\n')
  if (Array.isArray(body.tools) && body.tools.length > 0) request.tools = body.tools.map(toToolDefinition)
  if (body.tool_choice !== undefined && body.tool_choice !== null) {
    request.toolChoice = toToolChoice(body.tool_choice)
  }
  if (typeof body.stop === 'string') request.stop = [body.stop]
  else if (Array.isArray(body.stop)) {
    if (body.stop.some((stop) => typeof stop !== 'string')) throw invalid('stop', 'must be strings')
    request.stop = body.stop as string[]
  }
  if (typeof body.temperature === 'number') request.temperature = body.temperature
  if (typeof body.top_p === 'number') request.topP = body.top_p
  const maxTokens = body.max_completion_tokens ?? body.max_tokens
  if (typeof maxTokens === 'number') request.maxTokens = maxTokens
  const stream = body.stream === true
  const includeUsage = isRecord(body.stream_options) && body.stream_options.include_usage === true
  return { request, stream, includeUsage }
}

/** Translates a `/v1/embeddings` body; token-array inputs have no canonical form. */
export function fromOpenAIEmbeddingRequest(body: Record<string, unknown>): OpenAIGatewayEmbedding {
  if (typeof body.model !== 'string' || body.model === '')
    throw invalid('model', 'must be a non-empty string')
  const input = typeof body.input === 'string' ? [body.input] : body.input
  if (!Array.isArray(input) || input.length === 0) throw invalid('input', 'must be a string or strings')
  if (input.some((item) => typeof item !== 'string')) throw unsupported('input', 'token-array input')
  const format = body.encoding_format ?? 'float'
  if (format !== 'float' && format !== 'base64')
    throw invalid('encoding_format', "must be 'float' or 'base64'")
  if (body.dimensions !== undefined) throw unsupported('dimensions', 'choosing dimensions')
  return { request: { model: body.model, input: input as string[] }, encoding: format }
}

function toCanonicalMessage(message: Record<string, unknown>, index: number): CanonicalMessage {
  const path = `messages[${index}]`
  switch (message.role) {
    case 'system':
    case 'developer':
      return { role: 'system', content: textOnly(message.content, `${path}.content`) }
    case 'user': {
      const result: CanonicalMessage = { role: 'user', content: userContent(message.content, path) }
      if (typeof message.name === 'string') result.name = message.name
      return result
    }
    case 'assistant': {
      const content =
        message.content === null || message.content === undefined
          ? ''
          : textOnly(message.content, `${path}.content`)
      const result: CanonicalMessage = { role: 'assistant', content }
      if (Array.isArray(message.tool_calls) && message.tool_calls.length > 0) {
        result.toolCalls = message.tool_calls.map((call, callIndex) =>
          toToolCall(call, `${path}.tool_calls[${callIndex}]`),
        )
      }
      return result
    }
    case 'tool': {
      if (typeof message.tool_call_id !== 'string' || message.tool_call_id === '') {
        throw invalid(`${path}.tool_call_id`, 'is required on a tool message')
      }
      return {
        role: 'tool',
        content: textOnly(message.content, `${path}.content`),
        toolCallId: message.tool_call_id,
      }
    }
    default:
      throw unsupported(`${path}.role`, 'this role')
  }
}

function toToolCall(call: unknown, path: string): ToolCall {
  if (!isRecord(call) || !isRecord(call.function) || typeof call.function.name !== 'string') {
    throw invalid(path, 'must be a function call with a name')
  }
  const argumentsText = call.function.arguments
  return {
    id: typeof call.id === 'string' ? call.id : '',
    name: call.function.name,
    arguments: typeof argumentsText === 'string' ? argumentsText : '{}',
  }
}

/** Text content: a string, or text parts joined (system, assistant and tool turns). */
function textOnly(content: unknown, path: string): string {
  if (typeof content === 'string') return content
  if (content === null || content === undefined) return ''
  if (!Array.isArray(content)) throw invalid(path, 'must be a string or an array of parts')
  let text = ''
  for (const [index, part] of content.entries()) {
    if (!isRecord(part) || part.type !== 'text' || typeof part.text !== 'string') {
      throw unsupported(`${path}[${index}]`, 'a non-text part in this role')
    }
    text += part.text
  }
  return text
}

function userContent(content: unknown, path: string): string | ContentPart[] {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) throw invalid(`${path}.content`, 'must be a string or an array of parts')
  return content.map((part, index): ContentPart => {
    const partPath = `${path}.content[${index}]`
    if (!isRecord(part)) throw invalid(partPath, 'must be an object')
    if (part.type === 'text' && typeof part.text === 'string') return { type: 'text', text: part.text }
    if (part.type === 'image_url' && isRecord(part.image_url) && typeof part.image_url.url === 'string') {
      const url = part.image_url.url
      // Data URLs travel as base64 data so protocols without URL sources (Bedrock) can carry them.
      const dataUrl = /^data:([\w.+-]+\/[\w.+-]+);base64,(.*)$/s.exec(url)
      if (dataUrl !== null) return { type: 'image', mediaType: dataUrl[1] ?? '', data: dataUrl[2] ?? '' }
      return { type: 'image', url }
    }
    throw unsupported(`${partPath}.type`, `a "${String(part.type).slice(0, 40)}" part`)
  })
}

function toToolDefinition(tool: unknown, index: number): ToolDefinition {
  const path = `tools[${index}]`
  if (!isRecord(tool) || tool.type !== 'function') throw unsupported(`${path}.type`, 'a non-function tool')
  const definition = tool.function
  if (!isRecord(definition) || typeof definition.name !== 'string' || definition.name === '') {
    throw invalid(`${path}.function.name`, 'is required')
  }
  const result: ToolDefinition = {
    name: definition.name,
    parameters: isRecord(definition.parameters) ? definition.parameters : { type: 'object', properties: {} },
  }
  if (typeof definition.description === 'string') result.description = definition.description
  return result
}

function toToolChoice(choice: unknown): NonNullable<CanonicalRequest['toolChoice']> {
  if (choice === 'auto' || choice === 'none' || choice === 'required') return choice
  if (isRecord(choice) && isRecord(choice.function) && typeof choice.function.name === 'string') {
    return { name: choice.function.name }
  }
  throw invalid('tool_choice', "must be 'auto', 'none', 'required' or a function")
}
