/**
 * Amazon Bedrock Runtime's Converse API wire shapes (`POST /model/{modelId}/converse`, per the
 * Bedrock API reference) and their translation to and from canonical shapes. Converse differs from
 * OpenAI-style chat in ways handled here: the system prompt is a separate block list, only `user`
 * and `assistant` roles exist and must alternate (tool results travel as `toolResult` blocks in a
 * user turn), tool inputs are JSON objects, and images are base64 `bytes` with a short format name.
 */
import {
  type CanonicalMessage,
  type CanonicalRequest,
  type CanonicalResponse,
  ContinuumError,
  type FinishReason,
  type ToolCall,
  type Usage,
} from '../../../src/index'
import {
  contentParts,
  contentText,
  countOrUndefined,
  isRecord,
  jsonObjectOrUndefined,
  parseToolArguments,
  protocolError,
} from '../../../src/provider-kit/index'

/** One content block of a Converse message. */
export type ConverseContentBlock =
  | { text: string }
  | { image: { format: 'png' | 'jpeg' | 'gif' | 'webp'; source: { bytes: string } } }
  | { toolUse: { toolUseId: string; name: string; input: Record<string, unknown> } }
  | {
      toolResult: {
        toolUseId: string
        content: Array<{ text: string } | { json: Record<string, unknown> }>
        status?: 'success' | 'error'
      }
    }

/** A Converse message. */
export interface ConverseMessage {
  role: 'user' | 'assistant'
  content: ConverseContentBlock[]
}

/** The body of Converse and ConverseStream. */
export interface ConverseRequest {
  messages: ConverseMessage[]
  system?: Array<{ text: string }>
  inferenceConfig?: { maxTokens?: number; temperature?: number; topP?: number; stopSequences?: string[] }
  toolConfig?: {
    tools: Array<{
      toolSpec: { name: string; description?: string; inputSchema: { json: Record<string, unknown> } }
    }>
    toolChoice?: { auto: Record<string, never> } | { any: Record<string, never> } | { tool: { name: string } }
  }
}

const IMAGE_FORMATS = new Map([
  ['image/png', 'png'],
  ['image/jpeg', 'jpeg'],
  ['image/jpg', 'jpeg'],
  ['image/gif', 'gif'],
  ['image/webp', 'webp'],
] as const)

function imageBlock(
  part: { url?: string; data?: string; mediaType?: string },
  path: string,
): ConverseContentBlock {
  let data = part.data
  let mediaType = part.mediaType ?? 'image/png'
  const dataUrl = part.url === undefined ? undefined : /^data:([^;,]+);base64,(.*)$/s.exec(part.url)
  if (dataUrl !== undefined && dataUrl !== null) {
    mediaType = dataUrl[1]!
    data = dataUrl[2]!
  }
  const format = IMAGE_FORMATS.get(mediaType.toLowerCase() as 'image/png')
  if (data === undefined || format === undefined) {
    // Converse takes inline bytes or S3 locations, never web URLs.
    throw new ContinuumError(
      'CONTINUUM_NOT_SUPPORTED',
      `${path}: Bedrock accepts inline png, jpeg, gif or webp images only`,
      {
        details: { path },
      },
    )
  }
  return { image: { format, source: { bytes: data } } }
}

function messageBlocks(message: CanonicalMessage, index: number): ConverseContentBlock[] {
  if (message.role === 'tool') {
    const text = contentText(message.content)
    const json = jsonObjectOrUndefined(text)
    return [
      {
        toolResult: {
          toolUseId: message.toolCallId ?? '',
          content: [json === undefined ? { text } : { json }],
        },
      },
    ]
  }
  const blocks: ConverseContentBlock[] = []
  contentParts(message.content).forEach((part, partIndex) => {
    // Converse rejects blank text blocks.
    if (part.type === 'text') {
      if (part.text !== '') blocks.push({ text: part.text })
    } else {
      blocks.push(imageBlock(part, `messages[${index}].content[${partIndex}]`))
    }
  })
  message.toolCalls?.forEach((call, callIndex) => {
    blocks.push({
      toolUse: {
        toolUseId: call.id,
        name: call.name,
        input: parseToolArguments(call.arguments, `messages[${index}].toolCalls[${callIndex}].arguments`),
      },
    })
  })
  return blocks
}

/** Translates a canonical request into a Converse body. */
export function toConverseRequest(request: CanonicalRequest): ConverseRequest {
  const system: Array<{ text: string }> = []
  if (request.system !== undefined && request.system !== '') system.push({ text: request.system })
  const messages: ConverseMessage[] = []
  let usesTools = false
  request.messages.forEach((message, index) => {
    if (message.role === 'system') {
      const text = contentText(message.content)
      if (text !== '') system.push({ text })
      return
    }
    const role = message.role === 'assistant' ? 'assistant' : 'user'
    const blocks = messageBlocks(message, index)
    if (message.role === 'tool' || (message.toolCalls?.length ?? 0) > 0) usesTools = true
    if (blocks.length === 0) return
    // Converse requires alternating roles: consecutive turns of one role (e.g. several tool results) merge.
    const previous = messages.at(-1)
    if (previous?.role === role) previous.content.push(...blocks)
    else messages.push({ role, content: blocks })
  })
  const body: ConverseRequest = { messages }
  if (system.length > 0) body.system = system
  const inferenceConfig: NonNullable<ConverseRequest['inferenceConfig']> = {}
  if (request.maxTokens !== undefined) inferenceConfig.maxTokens = request.maxTokens
  if (request.temperature !== undefined) inferenceConfig.temperature = request.temperature
  if (request.topP !== undefined) inferenceConfig.topP = request.topP
  if (request.stop !== undefined && request.stop.length > 0) inferenceConfig.stopSequences = request.stop
  if (Object.keys(inferenceConfig).length > 0) body.inferenceConfig = inferenceConfig
  const tools = request.tools ?? []
  // Converse has no "none" choice; leave the tools out unless the history needs their definitions.
  if (tools.length > 0 && (request.toolChoice !== 'none' || usesTools)) {
    body.toolConfig = {
      tools: tools.map((tool) => ({
        toolSpec: {
          name: tool.name,
          ...(tool.description === undefined ? {} : { description: tool.description }),
          inputSchema: { json: tool.parameters },
        },
      })),
    }
    const choice = request.toolChoice
    if (choice === 'auto') body.toolConfig.toolChoice = { auto: {} }
    else if (choice === 'required') body.toolConfig.toolChoice = { any: {} }
    else if (typeof choice === 'object') body.toolConfig.toolChoice = { tool: { name: choice.name } }
  }
  return body
}

/** Maps Converse's `stopReason`. */
export function converseFinishReason(stopReason: unknown): FinishReason {
  switch (stopReason) {
    case 'tool_use':
      return 'tool_calls'
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length'
    case 'guardrail_intervened':
    case 'content_filtered':
      return 'content_filter'
    default:
      return 'stop'
  }
}

/** Converse's `usage`, when complete. */
export function converseUsage(value: unknown): Usage | undefined {
  if (!isRecord(value)) return undefined
  const inputTokens = countOrUndefined(value.inputTokens)
  const outputTokens = countOrUndefined(value.outputTokens)
  return inputTokens === undefined || outputTokens === undefined ? undefined : { inputTokens, outputTokens }
}

/** Translates a Converse answer; `requestId` is Bedrock's `x-amzn-requestid`. */
export function fromConverseResponse(
  body: unknown,
  providerId: string,
  model: string,
  requestId: string | undefined,
): CanonicalResponse {
  const message = isRecord(body) && isRecord(body.output) ? body.output.message : undefined
  if (!isRecord(body) || !isRecord(message) || !Array.isArray(message.content)) {
    throw protocolError(providerId, 'a Converse answer without output.message.content')
  }
  let content = ''
  const toolCalls: ToolCall[] = []
  for (const block of message.content as unknown[]) {
    if (!isRecord(block)) continue
    if (typeof block.text === 'string') content += block.text
    else if (isRecord(block.toolUse)) {
      const toolUse = block.toolUse
      if (typeof toolUse.toolUseId !== 'string' || typeof toolUse.name !== 'string') {
        throw protocolError(providerId, 'a toolUse block without toolUseId or name')
      }
      toolCalls.push({
        id: toolUse.toolUseId,
        name: toolUse.name,
        arguments: JSON.stringify(toolUse.input ?? {}),
      })
    }
  }
  const response: CanonicalResponse = {
    id: requestId ?? `bedrock-${Date.now()}`,
    model,
    provider: providerId,
    content,
    toolCalls,
    finishReason: converseFinishReason(body.stopReason),
  }
  const usage = converseUsage(body.usage)
  if (usage !== undefined) response.usage = usage
  return response
}
