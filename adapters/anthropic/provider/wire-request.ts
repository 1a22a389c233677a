/**
 * Canonical request → Anthropic Messages request. The two shapes differ in ways that matter: the
 * system prompt is a top-level field, tool results travel as `tool_result` blocks inside a user
 * turn, an assistant's tool calls are `tool_use` blocks with parsed JSON input, and `max_tokens` is
 * required. Consecutive turns of one role are merged so parallel tool results share one user turn.
 */
import {
  type CanonicalMessage,
  type CanonicalRequest,
  type ContentPart,
  ContinuumError,
} from '../../../src/index'
import { contentText, parseToolArguments } from '../../../src/provider-kit/index'
import type {
  AnthropicMessage,
  AnthropicMessagesRequest,
  AnthropicRequestBlock,
  AnthropicToolChoice,
} from './wire'

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
    }))
  }
  if (request.toolChoice !== undefined) body.tool_choice = toToolChoice(request.toolChoice)
  if (request.stop !== undefined && request.stop.length > 0) body.stop_sequences = request.stop
  if (request.temperature !== undefined) body.temperature = request.temperature
  if (request.topP !== undefined) body.top_p = request.topP
  if (stream) body.stream = true
  return body
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
