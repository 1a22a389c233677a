/**
 * Pulls the scannable text out of whatever the pipeline holds: a plain string, a canonical
 * request (`system`, `messages`, `documents`), or a decrypted OpenAI or Anthropic body (content
 * part arrays, `input_text` parts, Anthropic `tool_result` blocks with nested content, system
 * block arrays). Each piece keeps its role so the scanner can scan only the roles it is told to:
 * user turns for direct injection, tool results and retrieved documents for indirect injection.
 */

/** Where a piece of text came from. `document` is a retrieved document (RAG context). */
export type ScanRole = 'system' | 'user' | 'assistant' | 'tool' | 'document'

/** One piece of text and its role. */
export interface TextSegment {
  readonly role: ScanRole
  readonly text: string
}

/** Deep enough for every real body; bounds the walk on hostile nesting. */
const MAX_DEPTH = 8

function roleOf(value: unknown): ScanRole {
  switch (value) {
    case 'system':
    case 'developer':
      return 'system'
    case 'assistant':
    case 'model':
      return 'assistant'
    case 'tool':
    case 'function':
    case 'ipython':
      return 'tool'
    default:
      return 'user'
  }
}

/** Collects text of a message `content`: a string or an array of parts, recursing into nested content. */
function collectContent(content: unknown, role: ScanRole, into: TextSegment[], depth: number): void {
  if (depth > MAX_DEPTH) return
  if (typeof content === 'string') {
    if (content.length > 0) into.push({ role, text: content })
    return
  }
  if (Array.isArray(content)) {
    for (const part of content) collectContent(part, role, into, depth + 1)
    return
  }
  if (content === null || typeof content !== 'object') return
  const part = content as Record<string, unknown>
  if (part.type === 'tool_result' || part.type === 'function_call_output') {
    collectContent(part.content ?? part.output, 'tool', into, depth + 1)
    return
  }
  if (part.type === 'document') {
    const source = part.source as Record<string, unknown> | undefined
    collectContent(source?.data ?? source?.content ?? part.text, 'document', into, depth + 1)
    return
  }
  if (typeof part.text === 'string') collectContent(part.text, role, into, depth + 1)
  else if (part.content !== undefined) collectContent(part.content, role, into, depth + 1)
}

/** Every text segment of `input`, in order. Unknown shapes yield nothing rather than throwing. */
export function extractSegments(input: unknown): TextSegment[] {
  const segments: TextSegment[] = []
  if (typeof input === 'string') {
    if (input.length > 0) segments.push({ role: 'user', text: input })
    return segments
  }
  if (input === null || typeof input !== 'object') return segments
  const body = input as Record<string, unknown>
  collectContent(body.system, 'system', segments, 0)
  collectContent(body.instructions, 'system', segments, 0)
  if (Array.isArray(body.messages)) {
    for (const message of body.messages) {
      if (message === null || typeof message !== 'object') continue
      const { role, content } = message as Record<string, unknown>
      collectContent(content, roleOf(role), segments, 0)
    }
  }
  // Completions `prompt` and Responses-API `input` (a string or a list of messages or parts).
  collectContent(body.prompt, 'user', segments, 0)
  if (Array.isArray(body.input)) {
    for (const item of body.input) {
      const record = item as Record<string, unknown> | null
      const role =
        record !== null && typeof record === 'object' && 'role' in record ? roleOf(record.role) : 'user'
      collectContent(record?.content ?? item, role, segments, 0)
    }
  } else collectContent(body.input, 'user', segments, 0)
  if (Array.isArray(body.documents)) {
    for (const document of body.documents) {
      const record = document as Record<string, unknown> | null
      const text = typeof document === 'string' ? document : (record?.text ?? record?.content)
      collectContent(text, 'document', segments, 0)
    }
  }
  return segments
}
