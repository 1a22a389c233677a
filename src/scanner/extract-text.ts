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
  /**
   * Dotted path of the string in the input (`messages.1.content.0.text`); `''` for a plain
   * string. A scan result's location names it, so a finding can be traced without any text.
   */
  readonly path: string
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

/** `path.key`, or `key` at the top. */
const join = (path: string, key: string | number): string => (path === '' ? String(key) : `${path}.${key}`)

/** Collects text of a message `content`: a string or an array of parts, recursing into nested content. */
function collectContent(
  content: unknown,
  role: ScanRole,
  path: string,
  into: TextSegment[],
  depth: number,
): void {
  if (depth > MAX_DEPTH) return
  if (typeof content === 'string') {
    if (content.length > 0) into.push({ role, text: content, path })
    return
  }
  if (Array.isArray(content)) {
    for (let index = 0; index < content.length; index++) {
      collectContent(content[index], role, join(path, index), into, depth + 1)
    }
    return
  }
  if (content === null || typeof content !== 'object') return
  const part = content as Record<string, unknown>
  if (part.type === 'tool_result' || part.type === 'function_call_output') {
    const key = part.content !== undefined && part.content !== null ? 'content' : 'output'
    collectContent(part[key], 'tool', join(path, key), into, depth + 1)
    return
  }
  if (part.type === 'document') {
    const source = part.source as Record<string, unknown> | undefined
    const [value, key] =
      source?.data !== undefined && source.data !== null
        ? [source.data, 'source.data']
        : source?.content !== undefined && source.content !== null
          ? [source.content, 'source.content']
          : [part.text, 'text']
    collectContent(value, 'document', join(path, key), into, depth + 1)
    return
  }
  if (typeof part.text === 'string') collectContent(part.text, role, join(path, 'text'), into, depth + 1)
  else if (part.content !== undefined)
    collectContent(part.content, role, join(path, 'content'), into, depth + 1)
}

/** Every text segment of `input`, in order. Unknown shapes yield nothing rather than throwing. */
export function extractSegments(input: unknown): TextSegment[] {
  const segments: TextSegment[] = []
  if (typeof input === 'string') {
    if (input.length > 0) segments.push({ role: 'user', text: input, path: '' })
    return segments
  }
  if (input === null || typeof input !== 'object') return segments
  const body = input as Record<string, unknown>
  collectContent(body.system, 'system', 'system', segments, 0)
  collectContent(body.instructions, 'system', 'instructions', segments, 0)
  if (Array.isArray(body.messages)) {
    body.messages.forEach((message, index) => {
      if (message === null || typeof message !== 'object') return
      const { role, content } = message as Record<string, unknown>
      collectContent(content, roleOf(role), `messages.${index}.content`, segments, 0)
    })
  }
  // Completions `prompt` and Responses-API `input` (a string or a list of messages or parts).
  collectContent(body.prompt, 'user', 'prompt', segments, 0)
  if (Array.isArray(body.input)) {
    body.input.forEach((item, index) => {
      const record = item as Record<string, unknown> | null
      const role =
        record !== null && typeof record === 'object' && 'role' in record ? roleOf(record.role) : 'user'
      const nested = record?.content !== undefined && record?.content !== null
      collectContent(
        nested ? record.content : item,
        role,
        `input.${index}${nested ? '.content' : ''}`,
        segments,
        0,
      )
    })
  } else collectContent(body.input, 'user', 'input', segments, 0)
  if (Array.isArray(body.documents)) {
    body.documents.forEach((document, index) => {
      const record = document as Record<string, unknown> | null
      const key =
        typeof document === 'string'
          ? ''
          : record?.text !== undefined && record.text !== null
            ? 'text'
            : 'content'
      const text = typeof document === 'string' ? document : record?.[key]
      collectContent(
        text,
        'document',
        key === '' ? `documents.${index}` : `documents.${index}.${key}`,
        segments,
        0,
      )
    })
  }
  return segments
}
