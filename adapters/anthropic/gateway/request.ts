/**
 * Anthropic Messages request bodies → canonical requests, for the gateway that serves
 * Anthropic-format clients from the InferenceRouter (wire-request.ts is the provider direction).
 * A user turn's `tool_result` blocks become canonical `tool` messages ahead of its other content,
 * an assistant's `tool_use` blocks become tool calls with their input as JSON text, and thinking
 * blocks (which only Anthropic can verify) are dropped. Server tools, documents and other blocks
 * the canonical form cannot carry are refused by path, never by content.
 */
import {
  type CanonicalMessage,
  type CanonicalRequest,
  type ContentPart,
  ContinuumError,
  type ToolCall,
  type ToolDefinition,
} from '../../../src/index'
import { isRecord } from '../../../src/provider-kit/index'

/** What the gateway reads from an Anthropic request besides the canonical request. */
export interface AnthropicGatewayRequest {
  request: CanonicalRequest
  stream: boolean
}

/** Blocks only the model that wrote them can verify; they are not part of the canonical answer. */
const SKIPPED_BLOCKS = new Set(['thinking', 'redacted_thinking'])

function invalid(path: string, expectation: string): ContinuumError {
  return new ContinuumError('CONTINUUM_SCHEMA_VIOLATION', `${path}: ${expectation}`, { details: { path } })
}

function unsupported(path: string, what: string): ContinuumError {
  return new ContinuumError('CONTINUUM_NOT_SUPPORTED', `${path}: ${what} is not supported by the gateway`, {
    details: { path },
  })
}

/** Translates a `/v1/messages` body. */
export function fromAnthropicRequest(body: Record<string, unknown>): AnthropicGatewayRequest {
  if (typeof body.model !== 'string' || body.model === '')
    throw invalid('model', 'must be a non-empty string')
  if (!Array.isArray(body.messages)) throw invalid('messages', 'must be an array')
  const messages: CanonicalMessage[] = []
  for (const [index, message] of body.messages.entries()) {
    if (!isRecord(message)) throw invalid(`messages[${index}]`, 'must be an object')
    if (message.role === 'user') messages.push(...userMessages(message.content, `messages[${index}]`))
    else if (message.role === 'assistant')
      messages.push(assistantMessage(message.content, `messages[${index}]`))
    else throw invalid(`messages[${index}].role`, "must be 'user' or 'assistant'")
  }
  const request: CanonicalRequest = { model: body.model, messages }
  const system = systemText(body.system)
  if (system !== undefined && system !== '') request.system = system
  if (Array.isArray(body.tools) && body.tools.length > 0) request.tools = body.tools.map(toToolDefinition)
  if (isRecord(body.tool_choice)) request.toolChoice = toToolChoice(body.tool_choice)
  if (Array.isArray(body.stop_sequences) && body.stop_sequences.length > 0) {
    if (body.stop_sequences.some((stop) => typeof stop !== 'string'))
      throw invalid('stop_sequences', 'must be strings')
    request.stop = body.stop_sequences as string[]
  }
  if (typeof body.temperature === 'number') request.temperature = body.temperature
  if (typeof body.top_p === 'number') request.topP = body.top_p
  if (typeof body.max_tokens === 'number') request.maxTokens = body.max_tokens
  return { request, stream: body.stream === true }
}

function systemText(system: unknown): string | undefined {
  if (system === undefined || system === null) return undefined
  if (typeof system === 'string') return system
  if (!Array.isArray(system)) throw invalid('system', 'must be a string or text blocks')
  return system
    .map((block, index) => {
      if (!isRecord(block) || block.type !== 'text' || typeof block.text !== 'string') {
        throw invalid(`system[${index}]`, 'must be a text block')
      }
      return block.text
    })
    .join('\n\n')
}

function blocksOf(content: unknown, path: string): Record<string, unknown>[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }]
  if (!Array.isArray(content)) throw invalid(`${path}.content`, 'must be a string or an array of blocks')
  return content.map((block, index) => {
    if (!isRecord(block)) throw invalid(`${path}.content[${index}]`, 'must be an object')
    return block
  })
}

/** A user turn: tool results first (each its own `tool` message), then the text and images. */
function userMessages(content: unknown, path: string): CanonicalMessage[] {
  const results: CanonicalMessage[] = []
  const parts: ContentPart[] = []
  for (const [index, block] of blocksOf(content, path).entries()) {
    const blockPath = `${path}.content[${index}]`
    if (block.type === 'text' && typeof block.text === 'string')
      parts.push({ type: 'text', text: block.text })
    else if (block.type === 'image') parts.push(imagePart(block.source, `${blockPath}.source`))
    else if (block.type === 'tool_result') results.push(toolResult(block, blockPath))
    else throw unsupported(`${blockPath}.type`, `a "${String(block.type).slice(0, 40)}" block`)
  }
  if (parts.length > 0) {
    const only = parts[0]
    results.push({
      role: 'user',
      content: parts.length === 1 && only?.type === 'text' ? only.text : parts,
    })
  }
  return results
}

function toolResult(block: Record<string, unknown>, path: string): CanonicalMessage {
  if (typeof block.tool_use_id !== 'string' || block.tool_use_id === '') {
    throw invalid(`${path}.tool_use_id`, 'is required')
  }
  let text = ''
  if (typeof block.content === 'string') text = block.content
  else if (Array.isArray(block.content)) {
    for (const [index, part] of block.content.entries()) {
      if (!isRecord(part) || part.type !== 'text' || typeof part.text !== 'string') {
        throw unsupported(`${path}.content[${index}]`, 'a non-text tool result')
      }
      text += part.text
    }
  }
  return { role: 'tool', content: text, toolCallId: block.tool_use_id }
}

function imagePart(source: unknown, path: string): ContentPart {
  if (isRecord(source) && source.type === 'base64' && typeof source.data === 'string') {
    return {
      type: 'image',
      data: source.data,
      ...(typeof source.media_type === 'string' ? { mediaType: source.media_type } : {}),
    }
  }
  if (isRecord(source) && source.type === 'url' && typeof source.url === 'string') {
    return { type: 'image', url: source.url }
  }
  throw unsupported(path, 'this image source')
}

function assistantMessage(content: unknown, path: string): CanonicalMessage {
  let text = ''
  const toolCalls: ToolCall[] = []
  for (const [index, block] of blocksOf(content, path).entries()) {
    const blockPath = `${path}.content[${index}]`
    if (block.type === 'text' && typeof block.text === 'string') text += block.text
    else if (block.type === 'tool_use') {
      if (typeof block.id !== 'string' || typeof block.name !== 'string') {
        throw invalid(blockPath, 'a tool_use block needs id and name')
      }
      toolCalls.push({ id: block.id, name: block.name, arguments: JSON.stringify(block.input ?? {}) })
    } else if (!SKIPPED_BLOCKS.has(String(block.type))) {
      throw unsupported(`${blockPath}.type`, `a "${String(block.type).slice(0, 40)}" block`)
    }
  }
  const message: CanonicalMessage = { role: 'assistant', content: text }
  if (toolCalls.length > 0) message.toolCalls = toolCalls
  return message
}

function toToolDefinition(tool: unknown, index: number): ToolDefinition {
  const path = `tools[${index}]`
  if (!isRecord(tool) || typeof tool.name !== 'string' || tool.name === '')
    throw invalid(`${path}.name`, 'is required')
  // Server tools (web search, code execution) carry a versioned `type` and run at Anthropic only.
  if (tool.type !== undefined && tool.type !== 'custom') throw unsupported(`${path}.type`, 'a server tool')
  const result: ToolDefinition = {
    name: tool.name,
    parameters: isRecord(tool.input_schema) ? tool.input_schema : { type: 'object', properties: {} },
  }
  if (typeof tool.description === 'string') result.description = tool.description
  return result
}

function toToolChoice(choice: Record<string, unknown>): NonNullable<CanonicalRequest['toolChoice']> {
  switch (choice.type) {
    case 'auto':
      return 'auto'
    case 'any':
      return 'required'
    case 'none':
      return 'none'
    case 'tool':
      if (typeof choice.name === 'string' && choice.name !== '') return { name: choice.name }
      throw invalid('tool_choice.name', 'is required for type "tool"')
    default:
      throw invalid('tool_choice.type', "must be 'auto', 'any', 'tool' or 'none'")
  }
}
