/**
 * Gemini's `generateContent` wire shapes on Vertex AI (per the Vertex AI REST reference) and their
 * translation to and from canonical shapes. Gemini calls the assistant `model`, carries the system
 * prompt as `systemInstruction`, answers tool calls with `functionResponse` parts matched by
 * function name (there are no call ids), and reports token counts in `usageMetadata`. A streamed
 * answer is a series of the same response objects, so one reader serves both paths.
 */

import type { CanonicalMessage, CanonicalRequest, FinishReason, ToolCall, Usage } from '../../../src/index'
import {
  contentParts,
  contentText,
  countOrUndefined,
  isRecord,
  jsonObjectOrUndefined,
  newToolCallId,
  parseToolArguments,
  protocolError,
  toolArgumentsText,
  toolNameFor,
} from '../../../src/provider-kit/index'

/** One part of a Gemini content. */
export type GeminiPart =
  | { text: string }
  | { inlineData: { mimeType: string; data: string } }
  | { fileData: { mimeType: string; fileUri: string } }
  | { functionCall: { name: string; args: Record<string, unknown> } }
  | { functionResponse: { name: string; response: Record<string, unknown> } }

/** One turn of a conversation. */
export interface GeminiContent {
  role: 'user' | 'model'
  parts: GeminiPart[]
}

/** The body of `generateContent` and `streamGenerateContent`. */
export interface GeminiRequest {
  contents: GeminiContent[]
  systemInstruction?: { parts: Array<{ text: string }> }
  tools?: Array<{ functionDeclarations: Array<{ name: string; description?: string; parameters: unknown }> }>
  toolConfig?: { functionCallingConfig: { mode: 'AUTO' | 'ANY' | 'NONE'; allowedFunctionNames?: string[] } }
  generationConfig?: {
    temperature?: number
    topP?: number
    maxOutputTokens?: number
    stopSequences?: string[]
  }
}

function messageParts(
  messages: readonly CanonicalMessage[],
  message: CanonicalMessage,
  index: number,
): GeminiPart[] {
  if (message.role === 'tool') {
    const text = contentText(message.content)
    // functionResponse.response must be an object; other results are wrapped, as Google's SDKs do.
    const response = jsonObjectOrUndefined(text) ?? { content: text }
    return [
      { functionResponse: { name: toolNameFor(messages, message) ?? message.toolCallId ?? '', response } },
    ]
  }
  const parts: GeminiPart[] = []
  for (const part of contentParts(message.content)) {
    if (part.type === 'text') {
      if (part.text !== '') parts.push({ text: part.text })
    } else if (part.data !== undefined) {
      parts.push({ inlineData: { mimeType: part.mediaType ?? 'image/png', data: part.data } })
    } else if (part.url !== undefined) {
      parts.push({ fileData: { mimeType: part.mediaType ?? 'image/png', fileUri: part.url } })
    }
  }
  message.toolCalls?.forEach((call, callIndex) => {
    parts.push({
      functionCall: {
        name: call.name,
        args: parseToolArguments(call.arguments, `messages[${index}].toolCalls[${callIndex}].arguments`),
      },
    })
  })
  return parts
}

/** Translates a canonical request into a Gemini request body. */
export function toGeminiRequest(request: CanonicalRequest): GeminiRequest {
  const system: Array<{ text: string }> = []
  if (request.system !== undefined && request.system !== '') system.push({ text: request.system })
  const contents: GeminiContent[] = []
  request.messages.forEach((message, index) => {
    if (message.role === 'system') {
      const text = contentText(message.content)
      if (text !== '') system.push({ text })
      return
    }
    const role = message.role === 'assistant' ? 'model' : 'user'
    const parts = messageParts(request.messages, message, index)
    if (parts.length === 0) return
    // All responses to one turn's function calls must travel in one content.
    const previous = contents.at(-1)
    if (previous?.role === role) previous.parts.push(...parts)
    else contents.push({ role, parts })
  })
  const body: GeminiRequest = { contents }
  if (system.length > 0) body.systemInstruction = { parts: system }
  if (request.tools !== undefined && request.tools.length > 0) {
    body.tools = [
      {
        functionDeclarations: request.tools.map((tool) => ({
          name: tool.name,
          ...(tool.description === undefined ? {} : { description: tool.description }),
          parameters: tool.parameters,
        })),
      },
    ]
    const choice = request.toolChoice
    if (choice === 'auto') body.toolConfig = { functionCallingConfig: { mode: 'AUTO' } }
    else if (choice === 'none') body.toolConfig = { functionCallingConfig: { mode: 'NONE' } }
    else if (choice === 'required') body.toolConfig = { functionCallingConfig: { mode: 'ANY' } }
    else if (typeof choice === 'object') {
      body.toolConfig = { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.name] } }
    }
  }
  const generationConfig: NonNullable<GeminiRequest['generationConfig']> = {}
  if (request.temperature !== undefined) generationConfig.temperature = request.temperature
  if (request.topP !== undefined) generationConfig.topP = request.topP
  if (request.maxTokens !== undefined) generationConfig.maxOutputTokens = request.maxTokens
  if (request.stop !== undefined && request.stop.length > 0) generationConfig.stopSequences = request.stop
  if (Object.keys(generationConfig).length > 0) body.generationConfig = generationConfig
  return body
}

const CONTENT_FILTER_REASONS = new Set([
  'SAFETY',
  'RECITATION',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
])

/** Maps Gemini's `finishReason`; function calls win over STOP. */
export function geminiFinishReason(reason: unknown, sawToolCalls: boolean): FinishReason {
  if (reason === 'MAX_TOKENS') return 'length'
  if (typeof reason === 'string' && CONTENT_FILTER_REASONS.has(reason)) return 'content_filter'
  if (reason === 'MALFORMED_FUNCTION_CALL' || reason === 'OTHER') return 'error'
  return sawToolCalls ? 'tool_calls' : 'stop'
}

/** `usageMetadata`, when it has a prompt count (candidates may be absent for an empty answer). */
export function geminiUsage(value: unknown): Usage | undefined {
  if (!isRecord(value)) return undefined
  const inputTokens = countOrUndefined(value.promptTokenCount)
  if (inputTokens === undefined) return undefined
  return { inputTokens, outputTokens: countOrUndefined(value.candidatesTokenCount) ?? 0 }
}

/** What one response object (a whole answer or one stream chunk) contributes. */
export interface GeminiReading {
  text: string
  toolCalls: ToolCall[]
  /** The candidate's finishReason, or the prompt's blockReason mapped to SAFETY. */
  finishReason?: string
  usage?: Usage
  responseId?: string
  modelVersion?: string
}

/** Reads one GenerateContentResponse. */
export function readGeminiResponse(body: unknown, providerId: string): GeminiReading {
  if (!isRecord(body)) throw protocolError(providerId, 'an answer that is not an object')
  const reading: GeminiReading = { text: '', toolCalls: [] }
  if (typeof body.responseId === 'string') reading.responseId = body.responseId
  if (typeof body.modelVersion === 'string') reading.modelVersion = body.modelVersion
  const usage = geminiUsage(body.usageMetadata)
  if (usage !== undefined) reading.usage = usage
  const candidate: unknown = Array.isArray(body.candidates) ? body.candidates[0] : undefined
  if (!isRecord(candidate)) {
    // A blocked prompt has no candidates, only promptFeedback.blockReason.
    if (isRecord(body.promptFeedback) && typeof body.promptFeedback.blockReason === 'string')
      reading.finishReason = 'SAFETY'
    return reading
  }
  if (typeof candidate.finishReason === 'string') reading.finishReason = candidate.finishReason
  const parts: unknown[] =
    isRecord(candidate.content) && Array.isArray(candidate.content.parts) ? candidate.content.parts : []
  for (const part of parts) {
    if (!isRecord(part)) continue
    // Thought summaries are not part of the answer.
    if (typeof part.text === 'string' && part.thought !== true) reading.text += part.text
    else if (isRecord(part.functionCall)) {
      if (typeof part.functionCall.name !== 'string')
        throw protocolError(providerId, 'a functionCall without a name')
      reading.toolCalls.push({
        id: newToolCallId(),
        name: part.functionCall.name,
        arguments: toolArgumentsText(part.functionCall.args, providerId),
      })
    }
  }
  return reading
}
