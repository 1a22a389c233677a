/**
 * Canonical request → Anthropic Messages request. The two shapes differ in ways that matter: the
 * system prompt is a top-level field, tool results travel as `tool_result` blocks inside a user
 * turn, an assistant's tool calls are `tool_use` blocks with parsed JSON input, and `max_tokens` is
 * required. Consecutive turns of one role are merged so parallel tool results share one user turn.
 */
import {
  type CanonicalMessage,
  type CanonicalParameter,
  type CanonicalRequest,
  type ContentPart,
  ContinuumError,
  contentText,
  parameterName,
  parseToolArguments,
} from '../../../src/provider-kit/index'
import type {
  AnthropicMessage,
  AnthropicMessagesRequest,
  AnthropicRequestBlock,
  AnthropicToolChoice,
} from './wire'

/** The canonical parameters the Anthropic client puts on the Messages wire. */
export const ANTHROPIC_PARAMETERS: readonly CanonicalParameter[] = Object.freeze([
  'responseFormat',
  'topK',
  'parallelToolCalls',
  'reasoningEffort',
  'reasoningBudget',
  'user',
  'promptCaching',
  'strictTools',
] as const)

/** Reasoning efforts Anthropic's `output_config.effort` takes; `none` is its default of no thinking. */
const EFFORTS = new Set(['low', 'medium', 'high', 'xhigh', 'max'])

/** The body of a same-dialect request: the client's own, with only the model replaced. */
export function nativeMessagesBody(request: CanonicalRequest, stream: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = { ...request.native?.body, model: request.model }
  if (stream) body.stream = true
  else delete body.stream
  return body
}

/** Builds a `/v1/messages` body; `defaultMaxTokens` fills the required `max_tokens`. */
export function toAnthropicRequest(
  request: CanonicalRequest,
  defaultMaxTokens: number,
  stream: boolean,
): AnthropicMessagesRequest {
  const systemParts: string[] = []
  if (request.system !== undefined && request.system !== '') systemParts.push(request.system)
  const messages: AnthropicMessage[] = []
  for (const [index, message] of request.messages.entries()) {
    if (message.role === 'system') {
      systemParts.push(contentText(message.content))
      continue
    }
    const role = message.role === 'assistant' ? 'assistant' : 'user'
    const blocks = toBlocks(message, index)
    const previous = messages.at(-1)
    if (previous !== undefined && previous.role === role) {
      previous.content = [...asBlocks(previous.content), ...blocks]
    } else {
      messages.push({ role, content: blocks })
    }
  }

  const body: AnthropicMessagesRequest = {
    model: request.model,
    max_tokens: request.maxTokens ?? defaultMaxTokens,
    messages: messages.map(simplify),
  }
  if (systemParts.length > 0) body.system = systemParts.join('\n\n')
  if (request.tools !== undefined && request.tools.length > 0) {
    body.tools = request.tools.map((tool) => ({
      name: tool.name,
      ...(tool.description === undefined ? {} : { description: tool.description }),
      input_schema: tool.parameters,
      ...(tool.strict === undefined ? {} : { strict: tool.strict }),
    }))
  }
  if (request.toolChoice !== undefined) body.tool_choice = toToolChoice(request.toolChoice)
  if (request.stop !== undefined && request.stop.length > 0) body.stop_sequences = request.stop
  if (request.temperature !== undefined) body.temperature = request.temperature
  if (request.topP !== undefined) body.top_p = request.topP
  if (request.topK !== undefined) body.top_k = request.topK
  addParameters(request, body)
  if (stream) body.stream = true
  return body
}

/** The optional parameters: structured output, parallel tool use, reasoning, the end user, caching. */
function addParameters(request: CanonicalRequest, body: AnthropicMessagesRequest): void {
  const outputConfig: Record<string, unknown> = {}
  const format = request.responseFormat
  if (format !== undefined) {
    // JSON mode is the schema of any object; the schema's description tells the model what it is for.
    const schema: Record<string, unknown> =
      format.type === 'json_object' ? { type: 'object' } : { ...format.schema }
    if (
      format.type === 'json_schema' &&
      format.description !== undefined &&
      schema.description === undefined
    ) {
      schema.description = format.description
    }
    outputConfig.format = { type: 'json_schema', schema }
  }
  const effort = request.reasoning?.effort
  if (effort !== undefined && effort !== 'none') {
    if (!EFFORTS.has(effort)) throw notCarried(request, 'reasoningEffort', `the value "${effort}"`)
    outputConfig.effort = effort
  }
  if (Object.keys(outputConfig).length > 0) body.output_config = outputConfig
  const budget = request.reasoning?.budgetTokens
  if (budget !== undefined) body.thinking = { type: 'enabled', budget_tokens: budget }
  if (request.parallelToolCalls === false) {
    body.tool_choice = { ...(body.tool_choice ?? { type: 'auto' }), disable_parallel_tool_use: true }
  }
  if (request.user !== undefined) body.metadata = { user_id: request.user }
  // Anthropic's automatic caching: one mark on the request caches up to its last cacheable block.
  if (request.promptCaching === true) body.cache_control = { type: 'ephemeral' }
}

function notCarried(request: CanonicalRequest, parameter: CanonicalParameter, what: string): ContinuumError {
  const name = parameterName(request, parameter)
  return new ContinuumError('CONTINUUM_NOT_SUPPORTED', `${name}: ${what} is not supported by Anthropic`, {
    details: { path: name },
  })
}

function toToolChoice(choice: NonNullable<CanonicalRequest['toolChoice']>): AnthropicToolChoice {
  if (choice === 'auto') return { type: 'auto' }
  if (choice === 'required') return { type: 'any' }
  if (choice === 'none') return { type: 'none' }
  return { type: 'tool', name: choice.name }
}

function toBlocks(message: CanonicalMessage, index: number): AnthropicRequestBlock[] {
  if (message.role === 'tool') {
    if (message.toolCallId === undefined || message.toolCallId === '') {
      throw new ContinuumError('CONTINUUM_SCHEMA_VIOLATION', 'A tool message needs toolCallId', {
        details: { path: `messages[${index}].toolCallId` },
      })
    }
    return [{ type: 'tool_result', tool_use_id: message.toolCallId, content: contentText(message.content) }]
  }
  const parts: ContentPart[] =
    typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : message.content
  const blocks: AnthropicRequestBlock[] = []
  for (const [partIndex, part] of parts.entries()) {
    if (part.type === 'text') {
      // Anthropic rejects empty text blocks.
      if (part.text !== '') blocks.push({ type: 'text', text: part.text })
      continue
    }
    blocks.push({ type: 'image', source: toImageSource(part, `messages[${index}].content[${partIndex}]`) })
  }
  for (const [callIndex, call] of (message.toolCalls ?? []).entries()) {
    blocks.push({
      type: 'tool_use',
      id: call.id,
      name: call.name,
      input: parseToolArguments(call.arguments, `messages[${index}].toolCalls[${callIndex}].arguments`),
    })
  }
  return blocks
}

function toImageSource(part: Extract<ContentPart, { type: 'image' }>, path: string) {
  if (part.data !== undefined) {
    return { type: 'base64' as const, media_type: part.mediaType ?? 'image/png', data: part.data }
  }
  if (part.url !== undefined) {
    // Anthropic takes https URLs as `url` sources; data URLs must be split into base64 sources.
    const dataUrl = /^data:([\w.+-]+\/[\w.+-]+);base64,(.*)$/s.exec(part.url)
    if (dataUrl !== null)
      return { type: 'base64' as const, media_type: dataUrl[1] ?? '', data: dataUrl[2] ?? '' }
    return { type: 'url' as const, url: part.url }
  }
  throw new ContinuumError('CONTINUUM_SCHEMA_VIOLATION', 'An image part needs url or data', {
    details: { path },
  })
}

function asBlocks(content: string | AnthropicRequestBlock[]): AnthropicRequestBlock[] {
  return typeof content === 'string' ? [{ type: 'text', text: content }] : content
}

/** A turn holding a single text block is sent as a plain string, as the docs' examples do. */
function simplify(message: AnthropicMessage): AnthropicMessage {
  const content = message.content
  if (Array.isArray(content) && content.length === 1 && content[0]?.type === 'text') {
    return { role: message.role, content: content[0].text }
  }
  return message
}
