/**
 * OpenAI Responses API request bodies (`POST /v1/responses`) → canonical requests, for the
 * gateway. Input items become canonical messages (messages, function calls and their outputs),
 * `instructions` the system prompt, `text.format` the structured output, `reasoning.effort` the
 * reasoning effort. What only the Responses API carries (stored conversations, hosted tools,
 * background runs, `include`...) is listed in `native.only`: an OpenAI provider gets the body
 * verbatim, any other is refused naming the parameter. References to conversation state the
 * provider stores (`previous_response_id`, `conversation`) are refused for every provider: the
 * gateway's credential is shared by all its callers, so that state would be too. Reasoning items of earlier turns are left
 * out of the canonical history (they are encrypted for the model that wrote them). Errors name
 * paths, never content.
 */
import type {
  CanonicalMessage,
  CanonicalParameter,
  CanonicalRequest,
  ContentPart,
  ReasoningEffort,
  ResponseFormat,
  ToolCall,
  ToolDefinition,
} from '../../../src/index'
import { isRecord } from '../../../src/provider-kit/index'
import { strictToolIndex, toolParameters } from './request'
import { invalid, requestModel, type SharedStateKeys, safeKey } from './request-checks'

/** What the gateway reads from a Responses request besides the canonical request. */
export interface ResponsesGatewayRequest {
  request: CanonicalRequest
  stream: boolean
}

/** Top-level parameters translated into the canonical request or read by the gateway. */
const TRANSLATED = new Set([
  'model',
  'input',
  'instructions',
  'max_output_tokens',
  'temperature',
  'top_p',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'text',
  'reasoning',
  'safety_identifier',
  'user',
  'stream',
  'stream_options',
])

/**
 * Parameters that point at state the provider keeps under the gateway's own credential, which
 * every caller of the gateway shares: honouring them would let one caller continue, and so read,
 * another's stored conversation by its id. They are refused for every provider.
 */
const SHARED_STATE: SharedStateKeys = {
  keys: ['previous_response_id', 'conversation'],
  reason:
    'conversation state kept by the provider is shared by every caller of the gateway, so it is not supported; send the conversation as input',
}

/** Values that ask for nothing beyond the default. */
function isAbsent(key: string, value: unknown): boolean {
  if (value === undefined || value === null) return true
  if (value === false && (key === 'store' || key === 'background')) return true
  if (key === 'truncation' && value === 'disabled') return true
  return Array.isArray(value) && value.length === 0 && key === 'include'
}

/** Translates a `/v1/responses` body. */
export function fromResponsesRequest(body: Record<string, unknown>): ResponsesGatewayRequest {
  const model = requestModel(body, SHARED_STATE)
  const only: string[] = []
  const names: Partial<Record<CanonicalParameter, string>> = {}
  const systemParts: string[] = []
  if (typeof body.instructions === 'string' && body.instructions !== '') systemParts.push(body.instructions)
  const messages = inputMessages(body.input, systemParts, only)
  const request: CanonicalRequest = { model, messages }
  if (systemParts.length > 0) request.system = systemParts.join('\n\n')
  if (Array.isArray(body.tools) && body.tools.length > 0) {
    const tools = body.tools.flatMap((tool, index) => toToolDefinition(tool, index, only))
    if (tools.length > 0) request.tools = tools
  }
  if (body.tool_choice !== undefined && body.tool_choice !== null) {
    const choice = toToolChoice(body.tool_choice)
    if (choice === undefined) only.push('tool_choice')
    else request.toolChoice = choice
  }
  if (typeof body.temperature === 'number') request.temperature = body.temperature
  if (typeof body.top_p === 'number') request.topP = body.top_p
  if (typeof body.max_output_tokens === 'number') request.maxTokens = body.max_output_tokens
  if (typeof body.parallel_tool_calls === 'boolean') {
    request.parallelToolCalls = body.parallel_tool_calls
    names.parallelToolCalls = 'parallel_tool_calls'
  }
  const strict = strictToolIndex(body.tools, (tool) => tool)
  if (strict >= 0) names.strictTools = `tools[${strict}].strict`
  readText(body.text, request, names, only)
  readReasoning(body.reasoning, request, names, only)
  const user = body.safety_identifier ?? body.user
  if (typeof user === 'string') {
    request.user = user
    names.user = typeof body.safety_identifier === 'string' ? 'safety_identifier' : 'user'
    if (typeof body.user === 'string' && body.user !== user) only.push('user')
  }
  if (isRecord(body.stream_options)) {
    for (const [key, value] of Object.entries(body.stream_options)) {
      if (value !== null && value !== undefined) only.push(`stream_options.${safeKey(key)}`)
    }
  }
  for (const key of Object.keys(body)) {
    if (TRANSLATED.has(key) || isAbsent(key, body[key])) continue
    only.push(safeKey(key))
  }
  const opaqueContent = only.some(
    (path) => path.startsWith('input[') || path.startsWith('tools[') || path === 'prompt',
  )
  request.native = { dialect: 'openai-responses', body, only, names, opaqueContent }
  return { request, stream: body.stream === true }
}

function readText(
  text: unknown,
  request: CanonicalRequest,
  names: Partial<Record<CanonicalParameter, string>>,
  only: string[],
): void {
  if (!isRecord(text)) return
  for (const [key, value] of Object.entries(text)) {
    if (value === undefined || value === null) continue
    if (key !== 'format') {
      only.push(`text.${safeKey(key)}`)
      continue
    }
    if (!isRecord(value) || value.type === 'text') continue
    const format = toResponseFormat(value)
    if (format === undefined) only.push('text.format')
    else {
      request.responseFormat = format
      names.responseFormat = 'text.format'
    }
  }
}

function toResponseFormat(format: Record<string, unknown>): ResponseFormat | undefined {
  if (format.type === 'json_object') return { type: 'json_object' }
  if (format.type !== 'json_schema') return undefined
  if (typeof format.name !== 'string' || format.name === '') throw invalid('text.format.name', 'is required')
  const result: ResponseFormat = {
    type: 'json_schema',
    name: format.name,
    schema: isRecord(format.schema) ? format.schema : {},
  }
  if (typeof format.description === 'string') result.description = format.description
  if (typeof format.strict === 'boolean') result.strict = format.strict
  return result
}

function readReasoning(
  reasoning: unknown,
  request: CanonicalRequest,
  names: Partial<Record<CanonicalParameter, string>>,
  only: string[],
): void {
  if (!isRecord(reasoning)) return
  for (const [key, value] of Object.entries(reasoning)) {
    if (value === undefined || value === null) continue
    if (key === 'effort' && typeof value === 'string') {
      request.reasoning = { effort: value as ReasoningEffort }
      names.reasoningEffort = 'reasoning.effort'
    } else only.push(`reasoning.${safeKey(key)}`)
  }
}

/** Input items → canonical messages; leading system and developer messages join the system prompt. */
function inputMessages(input: unknown, systemParts: string[], only: string[]): CanonicalMessage[] {
  if (input === undefined || input === null) return []
  if (typeof input === 'string') return [{ role: 'user', content: input }]
  if (!Array.isArray(input)) throw invalid('input', 'must be a string or an array of items')
  const messages: CanonicalMessage[] = []
  for (const [index, item] of input.entries()) {
    const path = `input[${index}]`
    if (!isRecord(item)) throw invalid(path, 'must be an object')
    const type = item.type ?? 'message'
    if (type === 'message') {
      const role = item.role
      const leading = messages.length === 0
      if (role === 'system' || role === 'developer') {
        const text = textOf(item.content, `${path}.content`, only)
        if (leading) systemParts.push(text)
        else messages.push({ role: 'system', content: text })
      } else if (role === 'user') {
        messages.push({ role: 'user', content: userContent(item.content, path, only) })
      } else if (role === 'assistant') {
        appendAssistant(messages, { text: textOf(item.content, `${path}.content`, only) })
      } else throw invalid(`${path}.role`, "must be 'user', 'assistant', 'system' or 'developer'")
    } else if (type === 'function_call') {
      if (typeof item.call_id !== 'string' || typeof item.name !== 'string') {
        throw invalid(path, 'a function_call needs call_id and name')
      }
      const call: ToolCall = {
        id: item.call_id,
        name: item.name,
        arguments: typeof item.arguments === 'string' ? item.arguments : '{}',
      }
      appendAssistant(messages, { call })
    } else if (type === 'function_call_output') {
      if (typeof item.call_id !== 'string' || item.call_id === '')
        throw invalid(`${path}.call_id`, 'is required')
      messages.push({
        role: 'tool',
        content: textOf(item.output, `${path}.output`, only),
        toolCallId: item.call_id,
      })
    } else if (type !== 'reasoning') {
      // Hosted tool calls, item references, computer use...: the Responses API only.
      only.push(`${path} (${safeKey(String(type))})`)
    }
  }
  return messages
}

/** Adds text or a tool call to the assistant turn at the end, opening one when needed. */
function appendAssistant(messages: CanonicalMessage[], addition: { text?: string; call?: ToolCall }): void {
  let last = messages.at(-1)
  if (last?.role !== 'assistant' || (addition.text !== undefined && (last.toolCalls?.length ?? 0) > 0)) {
    last = { role: 'assistant', content: '' }
    messages.push(last)
  }
  if (addition.text !== undefined) last.content = `${last.content as string}${addition.text}`
  if (addition.call !== undefined) last.toolCalls = [...(last.toolCalls ?? []), addition.call]
}

/** Text content: a string, or input/output text parts joined; refusals of earlier turns read as text. */
function textOf(content: unknown, path: string, only: string[]): string {
  if (typeof content === 'string') return content
  if (content === null || content === undefined) return ''
  if (!Array.isArray(content)) throw invalid(path, 'must be a string or an array of parts')
  let text = ''
  for (const [index, part] of content.entries()) {
    if (isRecord(part) && (part.type === 'input_text' || part.type === 'output_text')) {
      if (typeof part.text === 'string') text += part.text
      if (Array.isArray(part.annotations) && part.annotations.length > 0)
        only.push(`${path}[${index}].annotations`)
    } else if (isRecord(part) && part.type === 'refusal' && typeof part.refusal === 'string') {
      text += part.refusal
    } else only.push(`${path}[${index}]`)
  }
  return text
}

function userContent(content: unknown, path: string, only: string[]): string | ContentPart[] {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) throw invalid(`${path}.content`, 'must be a string or an array of parts')
  return content.flatMap((part, index): ContentPart[] => {
    const partPath = `${path}.content[${index}]`
    if (!isRecord(part)) throw invalid(partPath, 'must be an object')
    if (part.type === 'input_text' && typeof part.text === 'string')
      return [{ type: 'text', text: part.text }]
    if (part.type === 'input_image' && typeof part.image_url === 'string') {
      if (part.detail !== undefined && part.detail !== null && part.detail !== 'auto')
        only.push(`${partPath}.detail`)
      const dataUrl = /^data:([\w.+-]+\/[\w.+-]+);base64,(.*)$/s.exec(part.image_url)
      if (dataUrl !== null) return [{ type: 'image', mediaType: dataUrl[1] ?? '', data: dataUrl[2] ?? '' }]
      return [{ type: 'image', url: part.image_url }]
    }
    // Files, file-id images and audio: the Responses API only.
    only.push(partPath)
    return []
  })
}

const TOOL_KEYS = new Set(['type', 'name', 'description', 'parameters', 'strict'])

function toToolDefinition(tool: unknown, index: number, only: string[]): ToolDefinition[] {
  const path = `tools[${index}]`
  if (!isRecord(tool)) throw invalid(path, 'must be an object')
  if (tool.type !== 'function') {
    only.push(`${path} (${safeKey(String(tool.type))})`)
    return []
  }
  if (typeof tool.name !== 'string' || tool.name === '') throw invalid(`${path}.name`, 'is required')
  for (const key of Object.keys(tool)) {
    if (!TOOL_KEYS.has(key) && tool[key] !== null && tool[key] !== undefined)
      only.push(`${path}.${safeKey(key)}`)
  }
  const result: ToolDefinition = {
    name: tool.name,
    parameters: toolParameters(tool.parameters, `${path}.parameters`),
  }
  if (typeof tool.strict === 'boolean') result.strict = tool.strict
  if (typeof tool.description === 'string') result.description = tool.description
  return [result]
}

function toToolChoice(choice: unknown): CanonicalRequest['toolChoice'] {
  if (choice === 'auto' || choice === 'none' || choice === 'required') return choice
  if (isRecord(choice) && choice.type === 'function') {
    if (typeof choice.name === 'string' && choice.name !== '') return { name: choice.name }
    throw invalid('tool_choice.name', 'is required')
  }
  if (isRecord(choice)) return undefined
  throw invalid('tool_choice', "must be 'auto', 'none', 'required' or a function")
}
