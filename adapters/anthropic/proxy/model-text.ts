/**
 * Which members of Anthropic Messages requests the model reads, for the prompt scanner: the
 * system prompt, every content block of every turn (text, thinking, documents and search
 * results as documents, `tool_use.input` as the assistant's, `tool_result` content as tool
 * output: the main indirect-injection path), tool definitions and every member this list does
 * not know. Content blocks are walked with a work list, so blocks nested in tool results at any
 * depth are read. Images, base64 PDFs and redacted thinking are not text and are not scanned.
 */
import type { ModelTextRole, ModelTextSegment } from '../../../src/index'
import { chatRole, ModelTextCollector, pointer, recordOf } from '../../../src/index'

/** Top-level members that steer sampling or bookkeeping and never reach the model as text. */
const KNOWN = new Set([
  'model',
  'max_tokens',
  'stream',
  'temperature',
  'top_p',
  'top_k',
  'service_tier',
  'metadata',
  'thinking',
  'tool_choice',
  'stop_sequences',
  'system',
  'messages',
  'tools',
])
/** Block members that carry no text. */
const BLOCK_KNOWN = ['type', 'id', 'tool_use_id', 'cache_control', 'citations', 'signature', 'is_error']
const handles = (...members: string[]) => new Set([...BLOCK_KNOWN, ...members])
/** The members each known block type defines (read below, or carrying no text). */
const HANDLED = new Map<unknown, ReadonlySet<string>>([
  ['text', handles('text')],
  ['thinking', handles('thinking')],
  ['redacted_thinking', handles('data')],
  ['image', handles('source')],
  ['tool_use', handles('name', 'input')],
  ['server_tool_use', handles('name', 'input')],
  ['tool_result', handles('content')],
  ['document', handles('source', 'title', 'context')],
  ['search_result', handles('source', 'title', 'content')],
])
const MESSAGE_KNOWN = new Set(['role', 'content'])
/** What a block of another type carries besides text. */
const OTHER_BLOCK = handles()
/** Document sources that hold bytes or a reference, not text. */
const BINARY_SOURCES = new Set(['base64', 'url', 'file'])

interface Pending {
  readonly value: unknown
  readonly role: ModelTextRole
  readonly path: string
}

/** Reads `blocks` (a string or a list of content blocks) and everything nested in them. */
function blocks(into: ModelTextCollector, start: Pending): void {
  const work: Pending[] = [start]
  const push = (value: unknown, role: ModelTextRole, path: string) => {
    if (Array.isArray(value)) {
      for (let index = value.length - 1; index >= 0; index--)
        work.push({ value: value[index], role, path: pointer(path, index) })
    } else work.push({ value, role, path })
  }
  while (work.length > 0) {
    const { value, role, path } = work.pop()!
    const block = recordOf(value)
    if (block === undefined) {
      if (Array.isArray(value)) push(value, role, path)
      else into.json(role, value, path)
      continue
    }
    const handled = HANDLED.get(block.type)
    if (handled === undefined) {
      // Any other block (web search results, future types) is read whole.
      into.rest(role, block, path, OTHER_BLOCK)
      continue
    }
    // Members a block type does not define are read too: a lenient server may pass them on.
    into.rest(role, block, path, handled)
    switch (block.type) {
      case 'text':
        into.text(role, block.text, pointer(path, 'text'))
        break
      case 'thinking':
        into.text(role, block.thinking, pointer(path, 'thinking'))
        break
      case 'tool_use':
      case 'server_tool_use':
        into.text(role, block.name, pointer(path, 'name'))
        into.json(role, block.input, pointer(path, 'input'))
        break
      case 'tool_result':
        push(block.content, 'tool', pointer(path, 'content'))
        break
      case 'document': {
        const source = recordOf(block.source)
        const sourcePath = pointer(path, 'source')
        into.text('document', block.title, pointer(path, 'title'))
        into.text('document', block.context, pointer(path, 'context'))
        if (source?.type === 'text') into.text('document', source.data, pointer(sourcePath, 'data'))
        else if (source?.type === 'content') push(source.content, 'document', pointer(sourcePath, 'content'))
        else if (source !== undefined && !BINARY_SOURCES.has(String(source.type)))
          into.json('document', source, sourcePath)
        break
      }
      case 'search_result':
        into.text('document', block.title, pointer(path, 'title'))
        into.text('document', block.source, pointer(path, 'source'))
        push(block.content, 'document', pointer(path, 'content'))
        break
      // image and redacted_thinking: pixels or opaque data, nothing to read
    }
  }
}

/** `/v1/messages` and `/v1/messages/count_tokens`. */
export function messagesModelText(body: Record<string, unknown>): ModelTextSegment[] {
  const into = new ModelTextCollector()
  blocks(into, { value: body.system, role: 'system', path: '/system' })
  if (Array.isArray(body.messages)) {
    for (const [index, entry] of body.messages.entries()) {
      const path = pointer('/messages', index)
      const message = recordOf(entry)
      if (message === undefined) {
        into.json('user', entry, path)
        continue
      }
      const role = chatRole(message.role)
      blocks(into, { value: message.content, role, path: pointer(path, 'content') })
      into.rest(role, message, path, MESSAGE_KNOWN)
    }
  } else into.json('user', body.messages, '/messages')
  // Tool definitions often come from third-party tool servers: the tool-poisoning path.
  into.json('tool', body.tools, '/tools')
  into.rest('user', body, '', KNOWN)
  return into.segments
}
