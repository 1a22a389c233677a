/**
 * Pulls the scannable text out of a value whose protocol the scanner does not know: a plain
 * string, a canonical request, or any JSON body of a route that declares no `modelText`. Which
 * members of a protocol the model reads is the adapter's knowledge (`route.modelText`); this
 * walk knows no protocol and so reads every string and every key that could hold a sentence,
 * iteratively, at any depth. Roles come from the only conventions that are not one protocol's:
 * an object's `role` member (`developer` and `system` are system text, `tool` and `function`
 * tool output), and the canonical `system`, `instructions` and `documents` members.
 */
import type { ModelTextRole, ModelTextSegment } from '../protocol/model-text'
import { chatRole, pointer } from '../protocol/model-text-collector'

/** Where a piece of text came from. `document` is a retrieved document (RAG context). */
export type ScanRole = ModelTextRole

/** One piece of text, its role and its JSON Pointer. */
export type TextSegment = ModelTextSegment

/** Roles of the canonical top-level members. */
const TOP_LEVEL_ROLES = new Map<string, ScanRole>([
  ['system', 'system'],
  ['instructions', 'system'],
  ['documents', 'document'],
])
/** A key that cannot hold a sentence (`content`, `max_tokens`), left out of the scan. */
const IDENTIFIER = /^[A-Za-z0-9_.:-]{1,64}$/

interface Pending {
  readonly value: unknown
  readonly role: ScanRole
  readonly path: string
}

/** Every text segment of `input`, in document order. Values without text yield nothing. */
export function extractSegments(input: unknown): TextSegment[] {
  const segments: TextSegment[] = []
  const work: Pending[] = [{ value: input, role: 'user', path: '' }]
  while (work.length > 0) {
    const { value, role, path } = work.pop()!
    if (typeof value === 'string') {
      if (value.length > 0) segments.push({ role, text: value, path })
    } else if (Array.isArray(value)) {
      for (let index = value.length - 1; index >= 0; index--)
        work.push({ value: value[index], role, path: pointer(path, index) })
    } else if (value !== null && typeof value === 'object') {
      const record = value as Record<string, unknown>
      const own = typeof record.role === 'string' ? chatRole(record.role) : role
      const entries = Object.entries(record)
      for (let index = entries.length - 1; index >= 0; index--) {
        const [key, member] = entries[index]!
        const memberPath = pointer(path, key)
        const memberRole = (path === '' ? TOP_LEVEL_ROLES.get(key) : undefined) ?? own
        work.push({ value: member, role: memberRole, path: memberPath })
        if (!IDENTIFIER.test(key)) work.push({ value: key, role: own, path: memberPath })
      }
    }
  }
  return segments
}
