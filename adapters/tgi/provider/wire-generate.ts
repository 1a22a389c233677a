/**
 * TGI's native `POST /generate` and `POST /generate_stream` routes, for servers run without a chat
 * template or when the caller wants raw prompting (`mode: 'generate'`). The conversation is rendered
 * into one prompt with plain role labels; models with their own chat format should use the
 * Messages API instead. Token counts come from TGI's `x-prompt-tokens` / `x-generated-tokens`
 * headers and from `details.generated_tokens`.
 */
import { type CanonicalRequest, ContinuumError, type FinishReason } from '../../../src/index'
import { contentText, countOrUndefined } from '../../../src/provider-kit/index'

/** The body of `/generate` and `/generate_stream`. */
export interface TgiGenerateRequest {
  inputs: string
  parameters: {
    max_new_tokens?: number
    temperature?: number
    top_p?: number
    stop?: string[]
    details: boolean
    return_full_text: false
  }
}

const ROLE_LABELS = { system: 'System', user: 'User', assistant: 'Assistant', tool: 'Tool' } as const

/** Renders the conversation as `Role: text` lines ending with `Assistant:`. */
export function renderPrompt(request: CanonicalRequest): string {
  const lines: string[] = []
  if (request.system !== undefined) lines.push(`System: ${request.system}`)
  for (const message of request.messages)
    lines.push(`${ROLE_LABELS[message.role]}: ${contentText(message.content)}`)
  lines.push('Assistant:')
  return lines.join('\n')
}

/** Translates a canonical request into a `/generate` body; tools are refused (the route has none). */
export function toTgiGenerateRequest(request: CanonicalRequest, providerId: string): TgiGenerateRequest {
  if (request.tools !== undefined && request.tools.length > 0) {
    throw new ContinuumError(
      'CONTINUUM_NOT_SUPPORTED',
      `Provider ${providerId} runs TGI in generate mode, which has no tools; use mode 'messages'`,
      { details: { provider: providerId } },
    )
  }
  const parameters: TgiGenerateRequest['parameters'] = { details: true, return_full_text: false }
  if (request.maxTokens !== undefined) parameters.max_new_tokens = request.maxTokens
  // TGI refuses temperature 0; leaving it out means greedy decoding, which is what 0 asks for.
  if (request.temperature !== undefined && request.temperature > 0)
    parameters.temperature = request.temperature
  // TGI requires 0 < top_p < 1.
  if (request.topP !== undefined && request.topP > 0 && request.topP < 1) parameters.top_p = request.topP
  if (request.stop !== undefined && request.stop.length > 0) parameters.stop = request.stop
  return { inputs: renderPrompt(request), parameters }
}

/** Maps `details.finish_reason` (`length`, `eos_token`, `stop_sequence`). */
export function generateFinishReason(reason: unknown): FinishReason {
  return reason === 'length' ? 'length' : 'stop'
}

/** A count from one of TGI's `x-*-tokens` headers. */
export function headerCount(headers: Record<string, string>, name: string): number | undefined {
  const value = headers[name]
  if (value === undefined || !/^\d+$/.test(value)) return undefined
  return countOrUndefined(Number(value))
}
