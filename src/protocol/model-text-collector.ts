/**
 * What an adapter's `modelText` is written with: a collector of model-visible text segments with
 * their JSON Pointer paths. Free-form members (tool arguments, JSON Schemas, tool inputs, members
 * a protocol does not name) are taken whole: every key and string beneath them, walked with an
 * explicit stack so nesting depth never hides text, joined into one segment because the model
 * reads them together (an injection split across two values is still one sentence to it).
 */
import type { ModelTextRole, ModelTextSegment } from './model-text'

/** Appends one reference token to a JSON Pointer (RFC 6901: `~` is `~0`, `/` is `~1`). */
export function pointer(base: string, token: string | number): string {
  const text = String(token)
  return `${base}/${text.includes('~') || text.includes('/') ? text.replace(/~/g, '~0').replace(/\//g, '~1') : text}`
}

/** Every object key and string under `value`, in document order, walked without recursion. */
export function jsonStrings(value: unknown): string[] {
  const found: string[] = []
  const pending: unknown[] = [value]
  while (pending.length > 0) {
    const item = pending.pop()
    if (typeof item === 'string') {
      if (item.length > 0) found.push(item)
    } else if (Array.isArray(item)) {
      for (let index = item.length - 1; index >= 0; index--) pending.push(item[index])
    } else if (item !== null && typeof item === 'object') {
      const entries = Object.entries(item as Record<string, unknown>)
      // Pushed in reverse so each key comes out right before its value.
      for (let index = entries.length - 1; index >= 0; index--) {
        const [key, member] = entries[index]!
        pending.push(member, key)
      }
    }
  }
  return found
}

/** A member name that cannot hold a sentence. */
const IDENTIFIER = /^[A-Za-z0-9_.:-]{1,64}$/

/** Collects the model-visible text of one request body. */
export class ModelTextCollector {
  readonly segments: ModelTextSegment[] = []

  /** A string member as one segment; other values and empty strings add nothing. */
  text(role: ModelTextRole, value: unknown, path: string): void {
    if (typeof value === 'string' && value.length > 0) this.segments.push({ role, text: value, path })
  }

  /** A free-form member: every key and string beneath it, as one segment. */
  json(role: ModelTextRole, value: unknown, path: string): void {
    const text = typeof value === 'string' ? value : jsonStrings(value).join('\n')
    if (text.length > 0) this.segments.push({ role, text, path })
  }

  /**
   * Every member of `object` not in `known`, each taken whole: members a protocol does not name
   * may still reach the model (vLLM's `chat_template`, Triton's extra generate inputs), so they
   * are scanned rather than skipped.
   */
  rest(role: ModelTextRole, object: Record<string, unknown>, path: string, known: ReadonlySet<string>): void {
    for (const [key, value] of Object.entries(object)) {
      if (known.has(key)) continue
      const strings = jsonStrings(value)
      // The member's name goes in too (a server that maps members onto inputs may show it),
      // unless it is a bare identifier over no text, like `max_tokens: 5`.
      if (strings.length === 0 && IDENTIFIER.test(key)) continue
      this.segments.push({ role, text: [key, ...strings].join('\n'), path: pointer(path, key) })
    }
  }
}

/**
 * The scanner role of a chat `role` value, across protocols: `developer` instructions count as
 * system text, `model` (Gemini) as assistant, `function` and `ipython` results as tool output.
 */
export function chatRole(value: unknown): ModelTextRole {
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

/** Reads a member as a plain object, or undefined. */
export function recordOf(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined
}
