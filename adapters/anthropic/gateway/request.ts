/**
 * Anthropic Messages request bodies → canonical requests, for the gateway that serves
 * Anthropic-format clients from the InferenceRouter (wire-request.ts is the provider direction).
 * Every parameter has a fate (docs/gateway.md): translated into the canonical request, or listed
 * in `native.only` when only Anthropic's dialect carries it (documents, server tools, containers,
 * `is_error` tool results...), so an Anthropic provider gets the body verbatim and any other is
 * refused naming the parameter. A user turn's `tool_result` blocks become canonical `tool`
 * messages ahead of its other content; an assistant's `tool_use` blocks become tool calls.
 * Thinking blocks of earlier turns are left out of the canonical history: they are signed for the
 * model that wrote them, and Anthropic itself strips them from earlier turns. A block of a known
 * type without what its type requires (a text block's string `text`, an image's `source`) is a
 * schema violation for every provider, as is a custom tool's `input_schema` that is missing or not
 * an object; an unknown block type is Anthropic's own, `native.only`. Errors name paths, never content.
 */
import type {
  CanonicalMessage,
  CanonicalParameter,
  CanonicalRequest,
  ContentPart,
  ReasoningEffort,
  ToolCall,
  ToolDefinition,
} from '../../../src/index'
import { isRecord } from '../../../src/provider-kit/index'
import { invalid, requestModel, type SharedStateKeys, safeKey } from '../../openai/gateway/request-checks'

/** What the gateway reads from an Anthropic request besides the canonical request. */
export interface AnthropicGatewayRequest {
  request: CanonicalRequest
  stream: boolean
}

/** Blocks only the model that wrote them can verify; earlier turns' ones are not part of the canonical history. */
const SKIPPED_BLOCKS = new Set(['thinking', 'redacted_thinking'])

/** Top-level parameters translated into the canonical request or read by the gateway. */
const TRANSLATED = new Set([
  'model',
  'messages',
  'max_tokens',
  'system',
  'stop_sequences',
  'stream',
  'temperature',
  'top_p',
  'top_k',
  'tools',
  'tool_choice',
  'metadata',
  'output_config',
  'thinking',
  'cache_control',
])

/** Members of a block the canonical form carries, by block type (`cache_control` is the caching mark). */
const BLOCK_KEYS: Readonly<Record<string, ReadonlySet<string>>> = {
  text: new Set(['type', 'text', 'cache_control']),
  image: new Set(['type', 'source', 'cache_control']),
  tool_use: new Set(['type', 'id', 'name', 'input', 'cache_control']),
  tool_result: new Set(['type', 'tool_use_id', 'content', 'cache_control']),
  thinking: new Set(['type', 'thinking', 'signature']),
  redacted_thinking: new Set(['type', 'data']),
}

const EFFORTS = new Set(['low', 'medium', 'high', 'xhigh', 'max'])

/** Decoding state: what only Anthropic carries, and whether the client marked anything for caching. */
interface Decoding {
  only: string[]
  cached: boolean
}

/** Lists a block's members beyond what the canonical form carries as Anthropic-only. */
function checkMembers(block: Record<string, unknown>, path: string, state: Decoding): void {
  const allowed = BLOCK_KEYS[String(block.type)]
  for (const key of Object.keys(block)) {
    const value = block[key]
    if (value === undefined || value === null) continue
    if (key === 'cache_control') state.cached = true
    else if (allowed?.has(key) !== true) state.only.push(`${path}.${safeKey(key)}`)
  }
}

/**
 * Parameters that point at state the provider keeps under the gateway's own credential, which
 * every caller shares: a code-execution container holds the files of whoever created it.
 */
const SHARED_STATE: SharedStateKeys = {
  keys: ['container'],
  reason: 'state kept by the provider is shared by every caller of the gateway, so it is not supported',
}

/** Translates a `/v1/messages` (or `count_tokens`) body. */
export function fromAnthropicRequest(body: Record<string, unknown>): AnthropicGatewayRequest {
  const model = requestModel(body, SHARED_STATE)
  if (!Array.isArray(body.messages)) throw invalid('messages', 'must be an array')
  const state: Decoding = {
    only: [],
    cached: body.cache_control !== undefined && body.cache_control !== null,
  }
  const names: Partial<Record<CanonicalParameter, string>> = {}
  const messages: CanonicalMessage[] = []
  for (const [index, message] of body.messages.entries()) {
    const path = `messages[${index}]`
    if (!isRecord(message)) throw invalid(path, 'must be an object')
    if (message.role === 'user') messages.push(...userMessages(message.content, path, state))
    else if (message.role === 'assistant') messages.push(assistantMessage(message.content, path, state))
    else throw invalid(`${path}.role`, "must be 'user' or 'assistant'")
  }
  const request: CanonicalRequest = { model, messages }
  const system = systemText(body.system, state)
  if (system !== undefined && system !== '') request.system = system
  if (Array.isArray(body.tools) && body.tools.length > 0) {
    const tools = body.tools.flatMap((tool, index) => toToolDefinition(tool, index, state))
    if (tools.length > 0) request.tools = tools
  }
  if (isRecord(body.tool_choice)) {
    request.toolChoice = toToolChoice(body.tool_choice)
    if (typeof body.tool_choice.disable_parallel_tool_use === 'boolean') {
      request.parallelToolCalls = !body.tool_choice.disable_parallel_tool_use
      names.parallelToolCalls = 'tool_choice.disable_parallel_tool_use'
    }
  }
  if (Array.isArray(body.stop_sequences) && body.stop_sequences.length > 0) {
    if (body.stop_sequences.some((stop) => typeof stop !== 'string'))
      throw invalid('stop_sequences', 'must be strings')
    request.stop = body.stop_sequences as string[]
  }
  if (typeof body.temperature === 'number') request.temperature = body.temperature
  if (typeof body.top_p === 'number') request.topP = body.top_p
  if (typeof body.top_k === 'number') {
    request.topK = body.top_k
    names.topK = 'top_k'
  }
  if (typeof body.max_tokens === 'number') request.maxTokens = body.max_tokens
  if (Array.isArray(body.tools)) {
    const strict = body.tools.findIndex((tool) => isRecord(tool) && tool.strict === true)
    if (strict >= 0) names.strictTools = `tools[${strict}].strict`
  }
  readMetadata(body.metadata, request, names, state)
  readOutputConfig(body.output_config, request, names, state)
  readThinking(body.thinking, request, names, state)
  if (state.cached) {
    request.promptCaching = true
    names.promptCaching = 'cache_control'
  }
  for (const key of Object.keys(body)) {
    if (TRANSLATED.has(key) || body[key] === undefined || body[key] === null) continue
    state.only.push(safeKey(key))
  }
  const opaqueContent = state.only.some(
    (path) => path.startsWith('messages[') || path.startsWith('system[') || path.startsWith('tools['),
  )
  request.native = { dialect: 'anthropic-messages', body, only: state.only, names, opaqueContent }
  return { request, stream: body.stream === true }
}

function readMetadata(
  metadata: unknown,
  request: CanonicalRequest,
  names: Partial<Record<CanonicalParameter, string>>,
  state: Decoding,
): void {
  if (!isRecord(metadata)) return
  for (const [key, value] of Object.entries(metadata)) {
    if (value === undefined || value === null) continue
    if (key === 'user_id' && typeof value === 'string') {
      request.user = value
      names.user = 'metadata.user_id'
    } else state.only.push(`metadata.${safeKey(key)}`)
  }
}

function readOutputConfig(
  config: unknown,
  request: CanonicalRequest,
  names: Partial<Record<CanonicalParameter, string>>,
  state: Decoding,
): void {
  if (!isRecord(config)) return
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined || value === null) continue
    if (key === 'format' && isRecord(value) && value.type === 'json_schema' && isRecord(value.schema)) {
      // Anthropic's format has no name; OpenAI requires one.
      request.responseFormat = { type: 'json_schema', name: 'response', schema: value.schema, strict: true }
      names.responseFormat = 'output_config.format'
    } else if (key === 'effort' && typeof value === 'string' && EFFORTS.has(value)) {
      request.reasoning = { ...request.reasoning, effort: value as ReasoningEffort }
      names.reasoningEffort = 'output_config.effort'
    } else state.only.push(`output_config.${safeKey(key)}`)
  }
}

function readThinking(
  thinking: unknown,
  request: CanonicalRequest,
  names: Partial<Record<CanonicalParameter, string>>,
  state: Decoding,
): void {
  if (!isRecord(thinking)) return
  // Off is the default: asking for it asks for nothing.
  if (thinking.type === 'disabled') return
  const display = thinking.display
  if (thinking.type === 'enabled' && typeof thinking.budget_tokens === 'number') {
    request.reasoning = { ...request.reasoning, budgetTokens: thinking.budget_tokens }
    names.reasoningBudget = 'thinking.budget_tokens'
    if (display !== undefined && display !== null && display !== 'summarized')
      state.only.push('thinking.display')
    return
  }
  state.only.push('thinking')
}

function systemText(system: unknown, state: Decoding): string | undefined {
  if (system === undefined || system === null) return undefined
  if (typeof system === 'string') return system
  if (!Array.isArray(system)) throw invalid('system', 'must be a string or text blocks')
  return system
    .map((block, index) => {
      if (!isRecord(block) || block.type !== 'text' || typeof block.text !== 'string') {
        throw invalid(`system[${index}]`, 'must be a text block')
      }
      checkMembers(block, `system[${index}]`, state)
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

/** A block type as a path may show it. */
function blockType(block: Record<string, unknown>): string {
  return typeof block.type === 'string' ? safeKey(block.type) : 'unknown'
}

/** A user turn: tool results first (each its own `tool` message), then the text and images. */
function userMessages(content: unknown, path: string, state: Decoding): CanonicalMessage[] {
  const results: CanonicalMessage[] = []
  const parts: ContentPart[] = []
  for (const [index, block] of blocksOf(content, path).entries()) {
    const blockPath = `${path}.content[${index}]`
    if (block.type === 'text') {
      checkMembers(block, blockPath, state)
      parts.push({ type: 'text', text: blockText(block, blockPath) })
    } else if (block.type === 'image') {
      checkMembers(block, blockPath, state)
      const part = imagePart(block.source, `${blockPath}.source`)
      if (part === undefined) state.only.push(`${blockPath}.source`)
      else parts.push(part)
    } else if (block.type === 'tool_result') {
      checkMembers(block, blockPath, state)
      if (block.is_error === true) state.only.push(`${blockPath}.is_error`)
      results.push(toolResult(block, blockPath, state))
    } else {
      // Documents, search results and other blocks: Anthropic's dialect only.
      state.only.push(`${blockPath} (${blockType(block)})`)
    }
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

function toolResult(block: Record<string, unknown>, path: string, state: Decoding): CanonicalMessage {
  if (typeof block.tool_use_id !== 'string' || block.tool_use_id === '') {
    throw invalid(`${path}.tool_use_id`, 'is required')
  }
  let text = ''
  if (typeof block.content === 'string') text = block.content
  else if (Array.isArray(block.content)) {
    for (const [index, part] of block.content.entries()) {
      const partPath = `${path}.content[${index}]`
      if (!isRecord(part) || typeof part.type !== 'string' || part.type === '') {
        throw invalid(partPath, 'must be a block with a type')
      }
      if (part.type === 'text') {
        checkMembers(part, partPath, state)
        text += blockText(part, partPath)
        continue
      }
      // Images and documents in a result: Anthropic's dialect only, once they are well-formed.
      if (part.type === 'image') imagePart(part.source, `${partPath}.source`)
      state.only.push(partPath)
    }
  } else if (block.content !== undefined && block.content !== null) {
    throw invalid(`${path}.content`, 'must be a string or an array of blocks')
  }
  return { role: 'tool', content: text, toolCallId: block.tool_use_id }
}

/** A text block's text; a text block without a string one is malformed, not another dialect's. */
function blockText(block: Record<string, unknown>, path: string): string {
  if (typeof block.text !== 'string') throw invalid(`${path}.text`, 'must be a string')
  return block.text
}

/**
 * An image source as a canonical part; undefined for a well-formed source only Anthropic reads
 * (a file id). A source that is missing, or lacks what its type requires, is refused by path.
 */
function imagePart(source: unknown, path: string): ContentPart | undefined {
  if (!isRecord(source) || typeof source.type !== 'string' || source.type === '') {
    throw invalid(path, 'must be an object with a type')
  }
  if (source.type === 'base64') {
    if (typeof source.data !== 'string') throw invalid(`${path}.data`, 'must be a string')
    if (source.media_type !== undefined && typeof source.media_type !== 'string') {
      throw invalid(`${path}.media_type`, 'must be a string')
    }
    return {
      type: 'image',
      data: source.data,
      ...(typeof source.media_type === 'string' ? { mediaType: source.media_type } : {}),
    }
  }
  if (source.type === 'url') {
    if (typeof source.url !== 'string') throw invalid(`${path}.url`, 'must be a string')
    return { type: 'image', url: source.url }
  }
  // File-id sources: Anthropic's dialect only.
  return undefined
}

function assistantMessage(content: unknown, path: string, state: Decoding): CanonicalMessage {
  let text = ''
  const toolCalls: ToolCall[] = []
  for (const [index, block] of blocksOf(content, path).entries()) {
    const blockPath = `${path}.content[${index}]`
    if (block.type === 'text') {
      checkMembers(block, blockPath, state)
      text += blockText(block, blockPath)
    } else if (block.type === 'tool_use') {
      if (typeof block.id !== 'string' || typeof block.name !== 'string') {
        throw invalid(blockPath, 'a tool_use block needs id and name')
      }
      if (block.input !== undefined && block.input !== null && !isRecord(block.input)) {
        throw invalid(`${blockPath}.input`, 'must be an object')
      }
      checkMembers(block, blockPath, state)
      toolCalls.push({ id: block.id, name: block.name, arguments: JSON.stringify(block.input ?? {}) })
    } else if (!SKIPPED_BLOCKS.has(String(block.type))) {
      // Server tool use and its results: Anthropic's dialect only.
      state.only.push(`${blockPath} (${blockType(block)})`)
    }
  }
  const message: CanonicalMessage = { role: 'assistant', content: text }
  if (toolCalls.length > 0) message.toolCalls = toolCalls
  return message
}

/** Members of a custom tool the canonical form carries. */
const TOOL_KEYS = new Set(['type', 'name', 'description', 'input_schema', 'cache_control', 'strict'])

function toToolDefinition(tool: unknown, index: number, state: Decoding): ToolDefinition[] {
  const path = `tools[${index}]`
  if (!isRecord(tool) || typeof tool.name !== 'string' || tool.name === '')
    throw invalid(`${path}.name`, 'is required')
  // Server tools (web search, code execution) carry a versioned `type` and run at Anthropic only.
  if (tool.type !== undefined && tool.type !== null && tool.type !== 'custom') {
    state.only.push(`${path} (${blockType(tool)})`)
    return []
  }
  for (const key of Object.keys(tool)) {
    if (tool[key] === undefined || tool[key] === null) continue
    if (key === 'cache_control') state.cached = true
    else if (!TOOL_KEYS.has(key)) state.only.push(`${path}.${safeKey(key)}`)
  }
  const result: ToolDefinition = {
    name: tool.name,
    parameters: inputSchema(tool.input_schema, `${path}.input_schema`),
  }
  if (typeof tool.description === 'string') result.description = tool.description
  if (typeof tool.strict === 'boolean') result.strict = tool.strict
  return [result]
}

/**
 * A custom tool's JSON Schema, which Anthropic's API requires (a tool without arguments says so
 * with `{"type": "object"}`). Absent, null or anything but an object is refused: replaced by an
 * empty schema, it would let the model call the tool with no arguments where Anthropic would have
 * refused the request. Server tools have no `input_schema` and never get here.
 */
function inputSchema(schema: unknown, path: string): Record<string, unknown> {
  if (schema === undefined || schema === null) throw invalid(path, 'is required for a custom tool')
  if (!isRecord(schema)) throw invalid(path, 'must be a JSON Schema object')
  return schema
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
