/**
 * OpenAI Chat Completions and Embeddings request bodies → canonical requests, for the gateway that
 * serves OpenAI-format clients from the InferenceRouter (the provider direction lives in
 * wire-request.ts). The proxy has already validated the body against the adapter's schema; this
 * checks what the canonical form needs. Every parameter has a fate (docs/gateway.md): translated
 * into the canonical request, or listed in `native.only` when only OpenAI's dialect carries it
 * (audio and file parts, `n > 1`, logit bias...), so a same-dialect provider gets the body verbatim
 * and any other provider is refused naming the parameter. Errors name paths, never content.
 */
import {
  type CanonicalMessage,
  type CanonicalParameter,
  type CanonicalRequest,
  type ContentPart,
  ContinuumError,
  type EmbeddingRequest,
  type ReasoningEffort,
  type ResponseFormat,
  type ToolCall,
  type ToolDefinition,
} from '../../../src/index'
import { isRecord } from '../../../src/provider-kit/index'
import { invalid, requestModel, type SharedStateKeys, safeKey } from './request-checks'

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

function unsupported(path: string, what: string): ContinuumError {
  return new ContinuumError('CONTINUUM_NOT_SUPPORTED', `${path}: ${what} is not supported by the gateway`, {
    details: { path },
  })
}

/** Chat parameters the canonical form carries, by the canonical parameter each sets. */
const CHAT_CANONICAL: Readonly<Record<string, CanonicalParameter>> = {
  response_format: 'responseFormat',
  seed: 'seed',
  presence_penalty: 'presencePenalty',
  frequency_penalty: 'frequencyPenalty',
  parallel_tool_calls: 'parallelToolCalls',
  reasoning_effort: 'reasoningEffort',
  safety_identifier: 'user',
  user: 'user',
}

const CHAT_CANONICAL_ENTRIES = Object.entries(CHAT_CANONICAL) as [string, CanonicalParameter][]

/** Chat parameters translated into the base canonical fields, or read by the gateway itself. */
const CHAT_BASE = new Set([
  'model',
  'messages',
  'tools',
  'tool_choice',
  'stop',
  'temperature',
  'top_p',
  'max_tokens',
  'max_completion_tokens',
  'n',
  'stream',
  'stream_options',
])

/**
 * Extensions that make the provider reach other resources with the gateway's own credential,
 * which every caller of the gateway shares. Azure's `data_sources` ("On Your Data") has the Azure
 * resource query a search index or database the request names, authenticated as the resource
 * itself (its managed identity) or with keys: carried verbatim to an Azure or OpenAI-dialect
 * provider, it let any caller read whatever that identity can reach. Refused for every provider;
 * an operator who wants it configures it on the provider side.
 */
const SHARED_CREDENTIAL: SharedStateKeys = {
  keys: ['data_sources', 'dataSources'],
  reason:
    "it makes the provider reach other data with the gateway's credential, which every caller shares, so it is not supported",
}

/** Translates a `/v1/chat/completions` body; what only OpenAI's dialect carries is listed in `native.only`. */
export function fromOpenAIChatRequest(body: Record<string, unknown>): OpenAIGatewayChat {
  const model = requestModel(body, SHARED_CREDENTIAL)
  if (!Array.isArray(body.messages)) throw invalid('messages', 'must be an array')
  const only: string[] = []
  const names: Partial<Record<CanonicalParameter, string>> = {}
  const systemParts: string[] = []
  const messages: CanonicalMessage[] = []
  const sent = body.messages
  for (let index = 0; index < sent.length; index++) {
    const message: unknown = sent[index]
    if (!isRecord(message)) throw invalid(`messages[${index}]`, 'must be an object')
    const role = message.role
    // Leading system and developer turns become the canonical system prompt, which every provider carries.
    if ((role === 'system' || role === 'developer') && messages.length === 0) {
      extraMembers(message, MESSAGE_KEYS.system, `messages[${index}]`, only)
      systemParts.push(textOnly(message.content, `messages[${index}].content`))
      continue
    }
    const canonical = toCanonicalMessage(message, index, only)
    if (canonical !== undefined) messages.push(canonical)
  }
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
  if (typeof body.stop === 'string') request.stop = [body.stop]
  else if (Array.isArray(body.stop)) {
    if (body.stop.some((stop) => typeof stop !== 'string')) throw invalid('stop', 'must be strings')
    request.stop = body.stop as string[]
  }
  if (typeof body.temperature === 'number') request.temperature = body.temperature
  if (typeof body.top_p === 'number') request.topP = body.top_p
  const maxTokens = body.max_completion_tokens ?? body.max_tokens
  if (typeof maxTokens === 'number') request.maxTokens = maxTokens
  if (body.n !== undefined && body.n !== null && body.n !== 1) only.push('n')
  const streamOptions = isRecord(body.stream_options) ? body.stream_options : {}
  for (const key of Object.keys(streamOptions)) {
    if (key !== 'include_usage' && streamOptions[key] !== null) only.push(`stream_options.${safeKey(key)}`)
  }

  const format = body.response_format
  if (isRecord(format) && format.type !== 'text') {
    const translated = toResponseFormat(format)
    if (translated === undefined) only.push('response_format')
    else request.responseFormat = translated
  }
  if (typeof body.seed === 'number') request.seed = body.seed
  if (typeof body.presence_penalty === 'number') request.presencePenalty = body.presence_penalty
  if (typeof body.frequency_penalty === 'number') request.frequencyPenalty = body.frequency_penalty
  if (typeof body.parallel_tool_calls === 'boolean') request.parallelToolCalls = body.parallel_tool_calls
  if (typeof body.reasoning_effort === 'string') {
    request.reasoning = { effort: body.reasoning_effort as ReasoningEffort }
  }
  const user = body.safety_identifier ?? body.user
  if (typeof user === 'string') request.user = user
  if (typeof body.safety_identifier === 'string' && typeof body.user === 'string') {
    // Both name the end user; only OpenAI's dialect can carry two different ids.
    if (body.user !== body.safety_identifier) only.push('user')
  }
  const strict = strictToolIndex(body.tools, (tool) => (isRecord(tool.function) ? tool.function : {}))
  if (strict >= 0) names.strictTools = `tools[${strict}].function.strict`
  for (const [key, parameter] of CHAT_CANONICAL_ENTRIES) {
    if (body[key] !== undefined && body[key] !== null) names[parameter] ??= key
  }
  for (const key of Object.keys(body)) {
    if (CHAT_BASE.has(key) || Object.hasOwn(CHAT_CANONICAL, key)) continue
    if (isAbsent(key, body[key])) continue
    only.push(safeKey(key))
  }
  const opaqueContent = only.some(
    (path) =>
      path.startsWith('messages[') ||
      path.startsWith('tools[') ||
      path === 'prediction' ||
      path === 'functions',
  )
  request.native = { dialect: 'openai-chat', body, only, names, opaqueContent }
  const stream = body.stream === true
  const includeUsage = streamOptions.include_usage === true
  return { request, stream, includeUsage }
}

/** The index of the first tool declared strict, or -1. */
export function strictToolIndex(
  tools: unknown,
  definition: (tool: Record<string, unknown>) => Record<string, unknown>,
): number {
  if (!Array.isArray(tools)) return -1
  return tools.findIndex((tool) => isRecord(tool) && definition(tool).strict === true)
}

/** Values that ask for nothing: `null`, and `false` for the switches that default to off. */
function isAbsent(key: string, value: unknown): boolean {
  return value === undefined || value === null || (value === false && (key === 'logprobs' || key === 'store'))
}

/** `response_format` → canonical; undefined for a format the canonical form cannot express. */
function toResponseFormat(format: Record<string, unknown>): ResponseFormat | undefined {
  if (format.type === 'json_object') return { type: 'json_object' }
  if (format.type !== 'json_schema' || !isRecord(format.json_schema)) return undefined
  const definition = format.json_schema
  if (typeof definition.name !== 'string' || definition.name === '') {
    throw invalid('response_format.json_schema.name', 'is required')
  }
  const result: ResponseFormat = {
    type: 'json_schema',
    name: definition.name,
    schema: isRecord(definition.schema) ? definition.schema : {},
  }
  if (typeof definition.description === 'string') result.description = definition.description
  if (typeof definition.strict === 'boolean') result.strict = definition.strict
  return result
}

/** Members of a message the canonical form carries, by role. */
const MESSAGE_KEYS: Readonly<Record<string, ReadonlySet<string>>> = {
  system: new Set(['role', 'content']),
  user: new Set(['role', 'content', 'name']),
  assistant: new Set(['role', 'content', 'tool_calls']),
  tool: new Set(['role', 'content', 'tool_call_id']),
}

/** Lists members beyond `allowed` (with a value) as dialect-only. */
function extraMembers(
  message: Record<string, unknown>,
  allowed: ReadonlySet<string> | undefined,
  path: string,
  only: string[],
): void {
  for (const key of Object.keys(message)) {
    if (allowed?.has(key) === true || message[key] === null || message[key] === undefined) continue
    only.push(`${path}.${safeKey(key)}`)
  }
}

/** Translates a `/v1/embeddings` body; token-array inputs have no canonical form. */
export function fromOpenAIEmbeddingRequest(body: Record<string, unknown>): OpenAIGatewayEmbedding {
  const model = requestModel(body)
  const input = typeof body.input === 'string' ? [body.input] : body.input
  if (!Array.isArray(input) || input.length === 0) throw invalid('input', 'must be a string or strings')
  if (input.some((item) => typeof item !== 'string')) throw unsupported('input', 'token-array input')
  const format = body.encoding_format ?? 'float'
  if (format !== 'float' && format !== 'base64')
    throw invalid('encoding_format', "must be 'float' or 'base64'")
  if (body.dimensions !== undefined) throw unsupported('dimensions', 'choosing dimensions')
  return { request: { model, input: input as string[] }, encoding: format }
}

function toCanonicalMessage(
  message: Record<string, unknown>,
  index: number,
  only: string[],
): CanonicalMessage | undefined {
  const path = `messages[${index}]`
  const allowed = MESSAGE_KEYS[message.role === 'developer' ? 'system' : String(message.role)]
  if (allowed !== undefined) extraMembers(message, allowed, path, only)
  switch (message.role) {
    case 'system':
    case 'developer':
      return { role: 'system', content: textOnly(message.content, `${path}.content`) }
    case 'user': {
      const result: CanonicalMessage = { role: 'user', content: userContent(message.content, path, only) }
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
      // The legacy `function` role: OpenAI's dialect only.
      only.push(`${path}.role`)
      return undefined
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

function userContent(content: unknown, path: string, only: string[]): string | ContentPart[] {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) throw invalid(`${path}.content`, 'must be a string or an array of parts')
  return content.flatMap((part, index): ContentPart[] => {
    const partPath = `${path}.content[${index}]`
    if (!isRecord(part)) throw invalid(partPath, 'must be an object')
    if (part.type === 'text' && typeof part.text === 'string') return [{ type: 'text', text: part.text }]
    if (part.type === 'image_url' && isRecord(part.image_url) && typeof part.image_url.url === 'string') {
      const detail = part.image_url.detail
      if (detail !== undefined && detail !== null && detail !== 'auto')
        only.push(`${partPath}.image_url.detail`)
      const url = part.image_url.url
      // Data URLs travel as base64 data so protocols without URL sources (Bedrock) can carry them.
      const dataUrl = /^data:([\w.+-]+\/[\w.+-]+);base64,(.*)$/s.exec(url)
      if (dataUrl !== null) return [{ type: 'image', mediaType: dataUrl[1] ?? '', data: dataUrl[2] ?? '' }]
      return [{ type: 'image', url }]
    }
    // Audio and file parts: OpenAI's dialect only.
    only.push(partPath)
    return []
  })
}

function toToolDefinition(tool: unknown, index: number, only: string[]): ToolDefinition[] {
  const path = `tools[${index}]`
  if (!isRecord(tool)) throw invalid(path, 'must be an object')
  if (tool.type !== 'function') {
    // Custom (free-form grammar) tools: OpenAI's dialect only.
    only.push(`${path}.type`)
    return []
  }
  const definition = tool.function
  if (!isRecord(definition) || typeof definition.name !== 'string' || definition.name === '') {
    throw invalid(`${path}.function.name`, 'is required')
  }
  const result: ToolDefinition = {
    name: definition.name,
    parameters: toolParameters(definition.parameters, `${path}.function.parameters`),
  }
  if (typeof definition.description === 'string') result.description = definition.description
  if (typeof definition.strict === 'boolean') result.strict = definition.strict
  return [result]
}

/**
 * A function tool's JSON Schema; absent or null is a function without parameters. Any other value
 * is refused: replaced by an empty schema, it would let the model call the tool with no arguments.
 */
export function toolParameters(parameters: unknown, path: string): Record<string, unknown> {
  if (parameters === undefined || parameters === null) return { type: 'object', properties: {} }
  if (!isRecord(parameters)) throw invalid(path, 'must be a JSON Schema object')
  return parameters
}

/** `tool_choice` → canonical; undefined for allowed-tools and custom-tool choices (OpenAI only). */
function toToolChoice(choice: unknown): CanonicalRequest['toolChoice'] {
  if (choice === 'auto' || choice === 'none' || choice === 'required') return choice
  if (isRecord(choice) && choice.type === 'function') {
    if (isRecord(choice.function) && typeof choice.function.name === 'string')
      return { name: choice.function.name }
    throw invalid('tool_choice.function.name', 'is required')
  }
  if (isRecord(choice)) return undefined
  throw invalid('tool_choice', "must be 'auto', 'none', 'required' or a function")
}
